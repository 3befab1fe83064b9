/// How much of the committed chain a node keeps on disk. Every `snapshotInterval` blocks it
/// stores a snapshot of the state (`ConsensusSnapshot`), so it can restart without the blocks
/// below it; it keeps the newest `keepBlocks` blocks to answer peers that sync, and prunes older
/// ones. When the stored blocks pass `maxStoredBytes` it snapshots at once and prunes down to
/// the snapshot (peers further behind must then sync from others).
public struct BlockRetention: Sendable, Equatable {
    public var keepBlocks: UInt64 = 100_000
    public var snapshotInterval: UInt64 = 1_000
    public var maxStoredBytes: UInt64 = 1 << 30
    public init() {}
}

/// What the node's store holds of the chain.
struct StoredChain: Sendable, Equatable {
    /// Lowest height still stored (nil: no block stored).
    var lowestHeight: UInt64?
    var highestHeight: UInt64?
    var bytes: UInt64 = 0
    var snapshotHeight: UInt64 = 0
}
