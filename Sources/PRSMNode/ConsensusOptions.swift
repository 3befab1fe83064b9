/// How a node takes part in consensus. Present only on nodes that run the engine.
public struct ConsensusOptions: Sendable {
    public var replica = ConsensusReplica.Config()
    /// The validator's consensus key: signs votes, timeouts and checkpoints; nil for an
    /// observer. The node's identity (which signs its envelopes) is a separate key that the
    /// validator set names beside this one.
    public var validatorKey: SigningKey?
    /// Where validators' nodes listen, by node key: those of genesis and any a later epoch may
    /// bring (several addresses for one key only in Twins tests, where two nodes share keys).
    public var directory: [PublicKey: [PeerAddress]] = [:]
    /// A node that does not vote in the current epoch asks a validator for new blocks this often
    /// (validators send their messages only to validators).
    public var followIntervalMs: UInt64 = 1_000
    /// Fetch a peer's certified snapshot when the chain is more than a checkpoint interval
    /// ahead, instead of replaying every block (which peers may have pruned).
    public var stateSync = true
    /// How much of the chain stays on disk.
    public var retention = BlockRetention()
    /// The fewest committed blocks memory keeps, however small `retention.keepBlocks` is.
    public static let minRetainedBlocks: UInt64 = 16
    /// The application behind the contract (the FTNS ledger once it exists).
    public var makeApplication: @Sendable () -> any ConsensusApplication = { KeyValueApplication() }
    /// Deliberately broken behaviour, for the simulator's Byzantine nodes only.
    public var fault: ConsensusFault?

    public init(validatorKey: SigningKey?, directory: [PublicKey: [PeerAddress]]) {
        self.validatorKey = validatorKey
        self.directory = directory
    }
}

/// Byzantine validator behaviours the simulator injects (never set in a real node).
public enum ConsensusFault: String, Sendable, CaseIterable {
    /// As leader, sends one block to half the validators and a conflicting one to the rest.
    case equivocate
    /// Never sends its votes.
    case withholdVotes = "withhold-votes"
    /// Never proposes when it leads.
    case silentLeader = "silent-leader"
    /// Sends validly signed envelopes whose consensus payloads are malformed.
    case garbage
    /// Holds every vote back for a while before sending it.
    case delayVotes = "delay-votes"
    /// Re-sends old consensus messages: the same sealed bytes again, and old votes re-sealed.
    case replayOld = "replay-old"
    /// Serves its certified snapshot with one byte changed in every chunk.
    case corruptSnapshot = "corrupt-snapshot"
}
