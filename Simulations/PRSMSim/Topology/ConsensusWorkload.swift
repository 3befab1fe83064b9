import PRSMNode

/// The consensus part of a topology's workload: the engine's timing and the clients that
/// submit signed transactions to validators.
public struct ConsensusWorkload: Sendable, Equatable {
    /// Transactions per second, all clients together (0: blocks stay empty).
    public var txRate: UInt64 = 50
    /// Client accounts; each submits in nonce order.
    public var clients = 8
    /// Bytes of each transaction's value (`key=value` payload).
    public var payloadBytes = 32
    /// Clients submit from this time until `txEndMs` (default: 5 s before the end).
    public var txStartMs: UInt64 = 1_000
    public var txEndMs: UInt64?
    public var baseViewTimeoutMs: UInt64 = 1_000
    public var maxViewTimeoutMs: UInt64 = 30_000
    public var maxBlockTransactions = 2_000
    /// Votes go to every validator (commit in 4 message delays) while the set has at most this
    /// many validators, else only to the next leader (5).
    public var voteBroadcastLimit = ConsensusCore.Config().voteBroadcastLimit
    /// Heights between signed state checkpoints, which lagging nodes sync from (0: none).
    public var checkpointInterval = Genesis.Parameters().checkpointInterval
    /// The deliberately unsafe 1-chain commit rule (the Twins test expects agreement to fail).
    public var unsafeOneChainCommit = false
    /// Blocks each node keeps in memory below its committed one (older ones are served from its
    /// store); tests lower it to exercise sync from disk. Not a topology key.
    public var retainedBlocks = ConsensusCore.Config().retainedBlocks
    /// The chain each node keeps on disk; tests shrink it to exercise pruning. Not a topology key.
    public var retention = BlockRetention()
    /// Validator-set changes the governor submits; each takes effect at the epoch boundary its
    /// transaction's block makes. Nodes named here but not in genesis run as observers until an
    /// epoch includes them (they sync the chain from the validators).
    public var reconfigurations: [Reconfiguration] = []
    /// After the network settles (last fault, GST), every honest live validator must commit a
    /// new block within this bound.
    public var livenessBoundMs: UInt64 = 30_000

    /// At `atMs` the governor asks for `validators` (node names; power = stake) to be the set.
    public struct Reconfiguration: Sendable, Equatable {
        public var atMs: UInt64
        public var validators: [String]
    }

    /// The simulated governor: the one key `KeyValueApplication` takes `@validators` from.
    public static let governor = try! SigningKey(seed: Blake2b.hash256(Array("prsm-sim-governor".utf8)).bytes)
}
