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
    public private(set) var stateSyncs = 0
    var submittedAtMs: [Digest32: UInt64] = [:]
    var proposedAtMs: [Digest32: UInt64] = [:]
    /// Honest nodes that committed each block not yet on every one.
    private var committers: [Digest32: Set<Int>] = [:]
    /// Nodes that started over from a snapshot, and its height: they hold every block up to it
    /// without committing them one by one.
    private var syncedHeights: [Int: UInt64] = [:]
    private var pendingBlocks: [Digest32: Block] = [:]
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

    func committed(_ block: Block, by node: Int, atMs: UInt64) {
        committers[block.hash, default: []].insert(node)
        pendingBlocks[block.hash] = block
        countIfEverywhere(block, atMs: atMs)
    }

    /// `node` adopted a snapshot of `height`: it holds every block up to there.
    func stateSynced(node: Int, height: UInt64, atMs: UInt64) {
        stateSyncs += 1
        syncedHeights[node] = max(syncedHeights[node] ?? 0, height)
        for block in pendingBlocks.values where block.height <= height { countIfEverywhere(block, atMs: atMs) }
    }

    private func countIfEverywhere(_ block: Block, atMs: UInt64) {
        guard let nodes = committers[block.hash] else { return }
        let synced = syncedHeights.filter { $0.value >= block.height && !nodes.contains($0.key) }.count
        guard nodes.count + synced >= honestValidators else { return }
        committers[block.hash] = nil
        pendingBlocks[block.hash] = nil
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
            "consensus_state_syncs": Double(stateSyncs),
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
