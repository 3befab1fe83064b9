/// A small deterministic application that implements the consensus contract until the FTNS
/// ledger does: each transaction's payload is `key=value` (UTF-8, key ≤ 64 bytes), written to a
/// replicated map if the sender's nonce is the next one. The state root chains every executed
/// block: root(h) = BLAKE2b-256("prsm-kv" ‖ root(h−1) ‖ h ‖ each transaction hash and outcome),
/// so two replicas share a root only if they executed the same transactions with the same
/// outcomes in the same order. Used by tests, the simulator, the devnet and the benchmarks.
public struct KeyValueApplication: ConsensusApplication {
    public static let maxKeyBytes = 64
    /// Keys kept; a write of a new key beyond this fails with a receipt (bounded state).
    public var maxKeys = 1_000_000

    public private(set) var values: [String: [UInt8]] = [:]
    private var nonces: [PublicKey: UInt64] = [:]
    public private(set) var executed = ExecutedState(height: 0, stateRoot: .zero)
    public private(set) var committedHeight: UInt64 = 0

    public init() {}

    public func checkTx(_ transaction: Transaction) -> TransactionCheck {
        guard Self.parse(transaction.payload) != nil else { return .reject("payload is not key=value with a key of 1–64 bytes") }
        let next = nextNonce(of: transaction.sender)
        guard transaction.nonce >= next else { return .reject("nonce \(transaction.nonce) already used (next is \(next))") }
        return .accept(nextNonce: next)
    }

    public func nextNonce(of sender: PublicKey) -> UInt64 { nonces[sender] ?? 0 }

    public mutating func executeBlock(_ block: Block) -> BlockExecution {
        precondition(block.height == executed.height + 1, "blocks execute once, in height order")
        var writer = WireWriter()
        writer.fixed(Array("prsm-kv".utf8))
        writer.fixed(executed.stateRoot.bytes)
        writer.u64(block.height)
        var receipts: [BlockExecution.Receipt] = []
        receipts.reserveCapacity(block.transactions.count)
        for transaction in block.transactions {
            let receipt = apply(transaction)
            writer.fixed(transaction.hash.bytes)
            writer.u8(receipt.succeeded ? 1 : 0)
            receipts.append(receipt)
        }
        executed = ExecutedState(height: block.height, stateRoot: Blake2b.hash256(writer.bytesWritten))
        return BlockExecution(height: block.height, stateRoot: executed.stateRoot, receipts: receipts)
    }

    public mutating func commit(height: UInt64) { committedHeight = height }

    private mutating func apply(_ transaction: Transaction) -> BlockExecution.Receipt {
        let next = nextNonce(of: transaction.sender)
        guard transaction.nonce == next else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "nonce \(transaction.nonce), expected \(next)")
        }
        nonces[transaction.sender] = next + 1
        guard let (key, value) = Self.parse(transaction.payload) else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "malformed payload")
        }
        guard values[key] != nil || values.count < maxKeys else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "key space full")
        }
        values[key] = value
        return .init(transaction: transaction.hash, succeeded: true, detail: "")
    }

    /// `key=value`: the key is the UTF-8 text before the first `=`.
    static func parse(_ payload: [UInt8]) -> (String, [UInt8])? {
        guard let separator = payload.firstIndex(of: UInt8(ascii: "=")), separator > 0,
              separator <= maxKeyBytes, let key = String(validating: payload[..<separator], as: UTF8.self) else {
            return nil
        }
        return (key, Array(payload[(separator + 1)...]))
    }
}
