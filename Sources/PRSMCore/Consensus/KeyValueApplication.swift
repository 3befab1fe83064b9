/// A small deterministic application that implements the consensus contract until the FTNS
/// ledger does: each transaction's payload is `key=value` (UTF-8, key ≤ 64 bytes), written to a
/// replicated map if the sender's nonce is the next one. The state root chains every executed
/// block: root(h) = BLAKE2b-256("prsm-kv" ‖ root(h−1) ‖ h ‖ each transaction hash and outcome),
/// so two replicas share a root only if they executed the same transactions with the same
/// outcomes in the same order. Used by tests, the simulator, the devnet and the benchmarks.
///
/// Validator-set changes stand in for the ledger's staking: the `governor` key (if any) may send
/// `@validators=<hex key>:<power>:<hex node key>,…` (consensus key, power, and the key of the
/// node that runs the validator); the block carrying it ends the epoch, and the next one
/// runs with that set. Anyone else's `@` keys are refused.
public struct KeyValueApplication: ConsensusApplication {
    public static let maxKeyBytes = 64
    public static let validatorsKey = "@validators"
    /// Keys kept; a write of a new key beyond this fails with a receipt (bounded state).
    public var maxKeys = 1_000_000
    public let governor: PublicKey?

    public private(set) var values: [String: [UInt8]] = [:]
    private var nonces: [PublicKey: UInt64] = [:]
    public private(set) var executed = ExecutedState(height: 0, stateRoot: .zero)
    public private(set) var committedHeight: UInt64 = 0

    public init(governor: PublicKey? = nil) { self.governor = governor }

    public func checkTx(_ transaction: Transaction) -> TransactionCheck {
        guard let (key, value) = Self.parse(transaction.payload) else {
            return .reject("payload is not key=value with a key of 1–64 bytes")
        }
        if let refusal = governance(key, value, from: transaction.sender).refusal { return .reject(refusal) }
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
        var nextValidators: [Genesis.Validator]?
        for transaction in block.transactions {
            let receipt = apply(transaction, nextValidators: &nextValidators)
            writer.fixed(transaction.hash.bytes)
            writer.u8(receipt.succeeded ? 1 : 0)
            receipts.append(receipt)
        }
        executed = ExecutedState(height: block.height, stateRoot: Blake2b.hash256(writer.bytesWritten))
        return BlockExecution(height: block.height, stateRoot: executed.stateRoot, receipts: receipts,
                              nextValidators: nextValidators)
    }

    public mutating func commit(height: UInt64) { committedHeight = height }

    private mutating func apply(_ transaction: Transaction, nextValidators: inout [Genesis.Validator]?)
        -> BlockExecution.Receipt {
        let next = nextNonce(of: transaction.sender)
        guard transaction.nonce == next else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "nonce \(transaction.nonce), expected \(next)")
        }
        nonces[transaction.sender] = next + 1
        guard let (key, value) = Self.parse(transaction.payload) else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "malformed payload")
        }
        switch governance(key, value, from: transaction.sender) {
        case let .refused(reason):
            return .init(transaction: transaction.hash, succeeded: false, detail: reason)
        case let .validators(set):
            nextValidators = set
            return .init(transaction: transaction.hash, succeeded: true, detail: "validator set of \(set.count) from the next epoch")
        case .notGovernance:
            break
        }
        guard values[key] != nil || values.count < maxKeys else {
            return .init(transaction: transaction.hash, succeeded: false, detail: "key space full")
        }
        values[key] = value
        return .init(transaction: transaction.hash, succeeded: true, detail: "")
    }

    enum Governance {
        case notGovernance
        case validators([Genesis.Validator])
        case refused(String)

        var refusal: String? {
            if case let .refused(reason) = self { return reason }
            return nil
        }
    }

    /// Keys starting with `@` are reserved: only `@validators`, only from the governor, only a
    /// well-formed set of 1…1,024 validators with distinct keys, distinct node keys and nonzero
    /// powers.
    func governance(_ key: String, _ value: [UInt8], from sender: PublicKey) -> Governance {
        guard key.hasPrefix("@") else { return .notGovernance }
        guard key == Self.validatorsKey else { return .refused("\(key) is a reserved key") }
        guard sender == governor else { return .refused("only the governor may change the validators") }
        guard let set = Self.parseValidators(value) else {
            return .refused("@validators needs 1–\(ConsensusLimits.maxValidators) distinct <hex key>:<power>:<hex node key>, comma-separated")
        }
        return .validators(set)
    }

    static func parseValidators(_ value: [UInt8]) -> [Genesis.Validator]? {
        guard let text = String(validating: value, as: UTF8.self) else { return nil }
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !entries.isEmpty, entries.count <= ConsensusLimits.maxValidators else { return nil }
        var validators: [Genesis.Validator] = []
        for entry in entries {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            // Three parts always: a validator without its node's key could not be reached.
            guard parts.count == 3, let key = try? PublicKey(hex: String(parts[0])),
                  let power = UInt64(parts[1]), power > 0, power <= UInt64(UInt32.max),
                  let nodeKey = try? PublicKey(hex: String(parts[2])) else { return nil }
            validators.append(Genesis.Validator(publicKey: key, nodeKey: nodeKey, power: power))
        }
        guard Set(validators.map(\.publicKey)).count == validators.count,
              Set(validators.map(\.nodeKey)).count == validators.count else { return nil }
        return validators
    }

    /// The payload that names `validators` as the next epoch's set.
    public static func validatorsPayload(_ validators: [Genesis.Validator]) -> [UInt8] {
        Array("\(validatorsKey)=\(validators.map { "\($0.publicKey.hex):\($0.power):\($0.nodeKey.hex)" }.joined(separator: ","))".utf8)
    }

    // MARK: snapshots

    /// Executed height, state root, committed height, then the values and the nonces, each
    /// sorted by key (so equal states give equal bytes).
    public func snapshot() -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("prsm-kv-snapshot".utf8))
        writer.u64(executed.height)
        writer.fixed(executed.stateRoot.bytes)
        writer.u64(committedHeight)
        writer.array(values.sorted { $0.key < $1.key }) { w, entry in
            w.string(entry.key)
            w.bytes(entry.value)
        }
        writer.array(nonces.sorted { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }) { w, entry in
            w.fixed(entry.key.bytes)
            w.u64(entry.value)
        }
        return writer.bytesWritten
    }

    public mutating func restore(fromSnapshot bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes: bytes)
        guard try reader.fixed(16, "snapshot magic") == Array("prsm-kv-snapshot".utf8) else {
            throw .nonCanonical("not a key-value snapshot")
        }
        let height = try reader.u64("snapshot height")
        let root = try Digest32.decode(from: &reader, "snapshot state root")
        let committed = try reader.u64("snapshot committed height")
        let entries = try reader.array("snapshot values", limit: maxKeys) { (r: inout WireReader) throws(WireError) in
            (try r.string("snapshot key", limit: Self.maxKeyBytes), try r.bytes("snapshot value", limit: Transaction.maxPayload))
        }
        let nonceEntries = try reader.array("snapshot nonces", limit: 10_000_000) { (r: inout WireReader) throws(WireError) in
            (try PublicKey.decode(from: &r, "snapshot sender"), try r.u64("snapshot nonce"))
        }
        try reader.finish()
        let restoredValues = Dictionary(entries, uniquingKeysWith: { _, last in last })
        let restoredNonces = Dictionary(nonceEntries, uniquingKeysWith: { _, last in last })
        guard restoredValues.count == entries.count, restoredNonces.count == nonceEntries.count else {
            throw .nonCanonical("snapshot repeats a key")
        }
        values = restoredValues
        nonces = restoredNonces
        executed = ExecutedState(height: height, stateRoot: root)
        committedHeight = committed
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
