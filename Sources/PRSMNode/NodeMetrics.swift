import Metrics

/// The node's counters, created through an injected factory (Prometheus in `prsm-node`,
/// a no-op factory in the simulator) so nothing depends on a global bootstrap.
public struct NodeMetrics: Sendable {
    private let accepted: Counter
    private let drops: [DropReason: Counter]
    private let pingsAnswered: Counter
    private let pingsSent: Counter
    private let blocksCommitted: Counter
    private let transactionsCommitted: Counter

    public init(factory: any MetricsFactory) {
        accepted = Counter(label: "prsm_inbound_accepted_total", factory: factory)
        drops = Dictionary(uniqueKeysWithValues: DropReason.allCases.map {
            ($0, Counter(label: "prsm_inbound_dropped_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        pingsAnswered = Counter(label: "prsm_pings_answered_total", factory: factory)
        pingsSent = Counter(label: "prsm_pings_sent_total", factory: factory)
        blocksCommitted = Counter(label: "prsm_consensus_blocks_committed_total", factory: factory)
        transactionsCommitted = Counter(label: "prsm_consensus_transactions_committed_total", factory: factory)
    }

    func countAccepted() { accepted.increment() }
    func countDrop(_ reason: DropReason) { drops[reason]?.increment() }
    func countPingAnswered() { pingsAnswered.increment() }
    func countPingSent() { pingsSent.increment() }
    func countCommitted(transactions: Int) {
        blocksCommitted.increment()
        transactionsCommitted.increment(by: transactions)
    }
}
