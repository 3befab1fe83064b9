import PRSMNode

/// Every table stays within the bound the topology states, whenever it is sampled.
final class BoundsChecker: SimChecker {
    let name = "tables-within-bounds"
    let maxPeers: Int
    let maxOutstandingPings: Int
    let maxSources: Int
    let maxSenders: Int
    private var samples: UInt64 = 0
    private var firstViolation: String?
    private var largestPeers = 0

    private let names: [String]

    init(maxPeers: Int, pipeline: ReceivePipeline.Config, peers: PeerCore.Config, names: [String]) {
        self.names = names
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
                                     ("replay senders", sizes.trackedSenders, maxSenders)] where size > bound {
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
