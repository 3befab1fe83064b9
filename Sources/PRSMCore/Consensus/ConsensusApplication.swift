/// The application side of DESIGN.md's "Consensus ↔ ledger" contract (ABCI-like). The engine
/// admits transactions with `checkTx`, executes each committed block once, in height order, with
/// `executeBlock`, then calls `commit`. Execution must be deterministic: every honest validator
/// reaches the same state root from the same blocks, which is how divergence is caught (a later
/// block carries the root its proposer reached).
public protocol ConsensusApplication: Sendable {
    /// Mempool admission against the committed state (the engine has already checked the
    /// signature): accept with the sender's next expected nonce, or refuse with a reason.
    func checkTx(_ transaction: Transaction) -> TransactionCheck
    /// The nonce the sender's next transaction must carry in the committed state.
    func nextNonce(of sender: PublicKey) -> UInt64
    /// Executes a committed block. Failures of single transactions (nonce, funds) are receipts,
    /// never errors: the block is final.
    mutating func executeBlock(_ block: Block) -> BlockExecution
    /// The executed state of `height` is final (a durable application writes it here).
    mutating func commit(height: UInt64)
    /// The last executed height and its state root (0 and `.zero` before any block).
    var executed: ExecutedState { get }
    /// The whole executed state as bytes, the same on every honest node at one height: a node
    /// keeps one so it can prune the blocks below it and still restart.
    func snapshot() -> [UInt8]
    /// Replaces the state with one `snapshot()` made; refuses bytes that do not decode.
    mutating func restore(fromSnapshot bytes: [UInt8]) throws(WireError)
}

public enum TransactionCheck: Sendable, Equatable {
    case accept(nextNonce: UInt64)
    case reject(String)
}

public struct ExecutedState: Sendable, Equatable {
    public let height: UInt64
    public let stateRoot: Digest32
    public init(height: UInt64, stateRoot: Digest32) {
        self.height = height
        self.stateRoot = stateRoot
    }
}

/// What executing one block produced.
public struct BlockExecution: Sendable, Equatable {
    public struct Receipt: Sendable, Equatable {
        public let transaction: Digest32
        public let succeeded: Bool
        public let detail: String
        public init(transaction: Digest32, succeeded: Bool, detail: String) {
            self.transaction = transaction
            self.succeeded = succeeded
            self.detail = detail
        }
    }

    public let height: UInt64
    public let stateRoot: Digest32
    public let receipts: [Receipt]
    /// A validator set to take effect at the next epoch boundary, if the block changed it.
    public let nextValidators: [Genesis.Validator]?

    public init(height: UInt64, stateRoot: Digest32, receipts: [Receipt], nextValidators: [Genesis.Validator]? = nil) {
        self.height = height
        self.stateRoot = stateRoot
        self.receipts = receipts
        self.nextValidators = nextValidators
    }
}
