import PRSMNode

/// Every table stays within the bound the topology states, whenever it is sampled.
final class BoundsChecker: SimChecker {
    let name = "tables-within-bounds"
    let maxPeers: Int
    let maxOutstandingPings: Int
    let maxSources: Int
    let maxSenders: Int
    let dht: DHTCore.Config
    let ownRecords: Int
    let maxMempool = Mempool.Config().maxTransactions
    let maxOutboundFrames: Int
    private var samples: UInt64 = 0
    private var firstViolation: String?
    private var largestPeers = 0

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
    }

    func observe(_ observation: SimObservation) {
        guard case let .tables(node, sizes) = observation else { return }
        samples += 1
        largestPeers = max(largestPeers, sizes.peers)
        guard firstViolation == nil else { return }
        for (table, size, bound) in [("peers", sizes.peers, maxPeers),
                                     ("outstanding pings", sizes.outstandingPings, maxOutstandingPings),
                                     ("rate-limit sources", sizes.trackedSources, maxSources),
                                     ("replay senders", sizes.trackedSenders, maxSenders),
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
        where size > bound {
            firstViolation = "\(names[node]): \(table) table holds \(size), bound \(bound)"
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        CheckResult(name: name, passed: firstViolation == nil && samples > 0,
                    message: firstViolation ?? (samples > 0
                        ? "\(samples) samples, largest peer table \(largestPeers) (bound \(maxPeers))"
                        : "no samples taken"))
    }
}
