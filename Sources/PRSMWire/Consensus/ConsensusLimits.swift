/// Bounds every consensus message is decoded against, so no count read from the wire can make a
/// node allocate without limit.
public enum ConsensusLimits {
    /// Validators one set may hold; indices travel as u16.
    public static let maxValidators = 1_024
    /// Transactions in one block (a block is also bounded by the genesis `maxBlockBytes`).
    public static let maxBlockTransactions = 20_000
    /// Transactions in one gossip envelope.
    public static let maxGossipBatch = 1_024
    /// Blocks in one sync response.
    public static let maxSyncBlocks = 64
    /// A sync response stops adding blocks beyond this many bytes (it travels as one frame).
    public static let maxSyncBytes = 2 * 1024 * 1024
    /// A state snapshot travels in chunks of this many bytes (one stream frame each, with its
    /// certificates), at most `maxSnapshotChunks` of them.
    public static let snapshotChunkBytes = 1 << 20
    public static let maxSnapshotChunks = 4_096
    /// Epoch changes one snapshot answer may prove (a node further behind asks again from the
    /// epoch it reached).
    public static let maxEpochLinks = 16
    /// Views and heights on the wire stay below 2^62, so `view + 1` and `view + window` never
    /// overflow in a receiver (a view of 2^64 − 1 from a Byzantine validator used to trap).
    public static let maxView: UInt64 = 1 << 62
}

extension WireReader {
    /// A view or height: a u64 of at most `ConsensusLimits.maxView`.
    mutating func view(_ what: String) throws(WireError) -> UInt64 {
        let value = try u64(what)
        guard value <= ConsensusLimits.maxView else { throw .nonCanonical("\(what) above 2^62") }
        return value
    }
}
