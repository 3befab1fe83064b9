/// The consensus part of `/status`.
public struct ConsensusStatus: Codable, Sendable, Equatable {
    public let epoch: UInt64
    /// Validators of the current epoch.
    public let validators: Int
    public let view: UInt64
    public let committedHeight: UInt64
    public let committedHash: String
    public let highQCView: UInt64
    public let mempool: Int
    /// Our index in the validator set; nil for an observer.
    public let validator: Int?
    public let stateRoot: String
    /// Transactions in the blocks this node committed since it started.
    public let committedTransactions: UInt64
    /// The chain on disk: the last state snapshot's height, the lowest block still stored
    /// (nil: none) and the stored blocks' bytes.
    public let snapshotHeight: UInt64
    public let storedFromHeight: UInt64?
    public let storedBlockBytes: UInt64
    /// The certified snapshot this node offers peers (nil: none yet), and how many times it
    /// started over from a peer's snapshot since it started.
    public let servedCheckpointHeight: UInt64?
    public let stateSyncs: UInt64

    enum CodingKeys: String, CodingKey {
        case epoch, validators, view
        case committedHeight = "committed_height"
        case committedHash = "committed_hash"
        case highQCView = "high_qc_view"
        case mempool, validator
        case stateRoot = "state_root"
        case committedTransactions = "committed_transactions"
        case snapshotHeight = "snapshot_height"
        case storedFromHeight = "stored_from_height"
        case storedBlockBytes = "stored_block_bytes"
        case servedCheckpointHeight = "served_checkpoint_height"
        case stateSyncs = "state_syncs"
    }
}
