import PRSMNode

/// Every table stays within the bound the topology states, whenever it is sampled.
final class BoundsChecker: SimChecker {
    let name = "tables-within-bounds"
    let maxPeers: Int
    let maxOutstandingPings: Int
    let maxSources: Int
    let maxSenders: Int
    let peers: PeerCore.Config
    let dht: DHTCore.Config
    let ownRecords: Int
    let maxMempool = Mempool.Config().maxTransactions
    let maxOutboundFrames: Int
    private var samples: UInt64 = 0
    private var firstViolation: String?
    /// Per table: the largest size sampled and the sum of all samples (for the mean).
    private var largest: [String: Int] = [:]
    private var totals: [String: Int] = [:]

    private let names: [String]

    init(maxPeers: Int, pipeline: ReceivePipeline.Config, peers: PeerCore.Config, dht: DHTCore.Config,
         ownRecords: Int, maxOutboundStreams: Int, names: [String]) {
        maxOutboundFrames = maxOutboundStreams * OutboundFrames.maxFrames
        self.names = names
        self.dht = dht
        self.ownRecords = ownRecords
        self.maxPeers = maxPeers
        maxOutstandingPings = peers.maxOutstandingPings
        maxSources = pipeline.sourceLimit.maxEntries
        maxSenders = pipeline.replay.maxSenders
        self.peers = peers
    }

    func observe(_ observation: SimObservation) {
        guard case let .tables(node, sizes) = observation else { return }
        samples += 1
        let tables = [("peers", sizes.peers, maxPeers),
                                     ("outstanding pings", sizes.outstandingPings, maxOutstandingPings),
                                     ("rate-limit sources", sizes.trackedSources, maxSources),
                                     ("replay senders", sizes.trackedSenders, maxSenders),
                                     ("scored keys", sizes.scoredKeys, peers.scores.maxKeys),
                                     ("recent contacts", sizes.recentContacts, peers.reachability.maxRecentContacts),
                                     ("DHT routing", sizes.dhtContacts, RoutingTable.bucketCount * dht.routing.k),
                                     ("DHT replacement caches", sizes.dhtReplacements,
                                      RoutingTable.bucketCount * dht.routing.replacementCacheSize),
                                     ("DHT outstanding requests", sizes.dhtOutstanding, dht.maxOutstanding),
                                     ("DHT lookups", sizes.dhtLookups, dht.maxLookups),
                                     ("DHT held tokens", sizes.dhtHeldTokens, dht.maxHeldTokens),
                                     // A node's own records are never evicted: at most one per put of the run.
                                     ("DHT records", sizes.dhtRecords, dht.records.maxRecords + ownRecords),
                                     ("mempool", sizes.mempool, maxMempool),
                                     ("outbound stream frames", sizes.outboundFrames, maxOutboundFrames)]
        for (table, size, _) in tables {
            largest[table] = max(largest[table] ?? 0, size)
            totals[table, default: 0] += size
        }
        guard firstViolation == nil else { return }
        for (table, size, bound) in tables where size > bound {
            firstViolation = "\(names[node]): \(table) table holds \(size), bound \(bound)"
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        CheckResult(name: name, passed: firstViolation == nil && samples > 0,
                    message: firstViolation ?? (samples > 0
                        ? "\(samples) samples, largest peer table \(largest["peers"] ?? 0) (bound \(maxPeers))"
                        : "no samples taken"))
    }

    /// Each table's largest sampled size and mean over samples, by table name.
    var sizeSummary: [String: (largest: Int, mean: Double)] {
        largest.reduce(into: [:]) { summary, entry in
            summary[entry.key] = (entry.value, Double(totals[entry.key] ?? 0) / Double(max(samples, 1)))
        }
    }
}
