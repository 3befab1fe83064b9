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

    enum CodingKeys: String, CodingKey {
        case epoch, validators, view
        case committedHeight = "committed_height"
        case committedHash = "committed_hash"
        case highQCView = "high_qc_view"
        case mempool, validator
        case stateRoot = "state_root"
        case committedTransactions = "committed_transactions"
    }
}
