import PRSMNode

/// What the consensus workload measured: when each transaction was submitted, when each block
/// was first proposed, and when every honest validator had committed it.
public final class ConsensusStats: @unchecked Sendable {
    /// Honest validators a block must reach before it counts as committed "on every validator".
    var honestValidators = 0
    public internal(set) var submitted = 0
    public internal(set) var refused = 0
    /// The epoch each node reached (nodes that never changed epoch are absent).
    public internal(set) var epochs: [Int: UInt64] = [:]
    /// Misbehaviour reports by honest nodes (equivocation, invalid certificates, …).
    public internal(set) var misbehaviourReports = 0
    /// Nodes that started over from a peer's certified snapshot.
    public internal(set) var stateSyncs = 0
    var submittedAtMs: [Digest32: UInt64] = [:]
    var proposedAtMs: [Digest32: UInt64] = [:]
    private var commits: [Digest32: Int] = [:]
    /// Per block committed by every honest validator: proposal → last commit.
    public private(set) var commitLatenciesMs: [UInt64] = []
    /// Per transaction in such a block: submission → last commit.
    public private(set) var submitToCommitMs: [UInt64] = []
    public private(set) var committedTransactions = 0
    public private(set) var committedBlocks = 0
    public private(set) var committedBytes = 0
    /// Height of the highest block every honest validator committed, and when.
    public private(set) var lastFullCommitMs: UInt64 = 0
    /// When each fully committed block was committed on the last honest validator, with its size.
    public private(set) var fullCommits: [(atMs: UInt64, transactions: Int)] = []

    func committed(_ block: Block, atMs: UInt64) {
        let count = commits[block.hash, default: 0] + 1
        commits[block.hash] = count
        guard count == honestValidators else { return }
        commits[block.hash] = nil
        committedBlocks += 1
        committedTransactions += block.transactions.count
        committedBytes += block.transactions.reduce(0) { $0 + $1.encodedSize }
        lastFullCommitMs = atMs
        fullCommits.append((atMs, block.transactions.count))
        if let proposed = proposedAtMs.removeValue(forKey: block.hash) { commitLatenciesMs.append(atMs - proposed) }
        for transaction in block.transactions {
            if let at = submittedAtMs.removeValue(forKey: transaction.hash) { submitToCommitMs.append(atMs - at) }
        }
    }

    func proposed(_ block: Block, atMs: UInt64) {
        if proposedAtMs[block.hash] == nil { proposedAtMs[block.hash] = atMs }
    }

    /// The run's consensus figures for summary.json.
    public var summary: [String: Double] {
        [
            "consensus_submitted": Double(submitted), "consensus_refused": Double(refused),
            "consensus_misbehaviour_reports": Double(misbehaviourReports),
            "consensus_blocks_committed": Double(committedBlocks),
            "consensus_transactions_committed": Double(committedTransactions),
            "consensus_commit_latency_p50_ms": Self.percentile(commitLatenciesMs, 50),
            "consensus_commit_latency_p99_ms": Self.percentile(commitLatenciesMs, 99),
            "consensus_submit_to_commit_p50_ms": Self.percentile(submitToCommitMs, 50),
            "consensus_submit_to_commit_p99_ms": Self.percentile(submitToCommitMs, 99),
        ]
    }

    static func percentile(_ values: [UInt64], _ p: Int) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return Double(sorted[min(sorted.count - 1, sorted.count * p / 100)])
    }
}
