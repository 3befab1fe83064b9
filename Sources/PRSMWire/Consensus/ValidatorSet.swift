import PRSMCrypto

/// The validators of one epoch, in genesis order, with their voting power. A quorum is more than
/// two thirds of the total power, so with n ≥ 3f + 1 equal validators any two quorums share an
/// honest one.
public struct ValidatorSet: Hashable, Sendable {
    public let epoch: UInt64
    /// Consensus keys: they sign votes, timeouts and checkpoints.
    public let keys: [PublicKey]
    /// The identity keys of the validators' nodes, in the same order: envelopes from these
    /// speak for the validator, and messages for it go to where this node listens.
    public let nodeKeys: [PublicKey]
    public let powers: [UInt64]
    public let totalPower: UInt64

    public init(epoch: UInt64, validators: [Genesis.Validator]) {
        precondition(!validators.isEmpty, "a validator set needs at least one validator")
        precondition(validators.count <= ConsensusLimits.maxValidators, "too many validators for one set")
        self.epoch = epoch
        keys = validators.map(\.publicKey)
        nodeKeys = validators.map(\.nodeKey)
        powers = validators.map { max(1, $0.power) }
        totalPower = powers.reduce(0, +)
    }

    public var count: Int { keys.count }

    /// The smallest power that is more than 2/3 of the total.
    public var quorumPower: UInt64 { totalPower * 2 / 3 + 1 }

    /// Power that can be faulty without breaking safety: less than 1/3 of the total.
    public var faultTolerance: UInt64 { (totalPower - 1) / 3 }

    /// The validator whose consensus key this is.
    public func index(of key: PublicKey) -> Int? { keys.firstIndex(of: key) }

    /// The validator whose node this is (the envelope's signer).
    public func index(ofNode key: PublicKey) -> Int? { nodeKeys.firstIndex(of: key) }

    /// Round-robin leader of a view.
    public func leader(of view: UInt64) -> Int { Int(view % UInt64(keys.count)) }

    /// Power of the distinct validator indices given (out-of-range indices count nothing).
    public func power(of indices: some Sequence<Int>) -> UInt64 {
        Set(indices).reduce(0) { $0 + (keys.indices.contains($1) ? powers[$1] : 0) }
    }

    /// Commits to the epoch, the keys (consensus and node) in order and their powers (checkpoints name the next set by it).
    public var digest: Digest32 {
        var writer = WireWriter()
        writer.fixed(Array("prsm-validators".utf8))
        encode(into: &writer)
        return Blake2b.hash256(writer.bytesWritten)
    }

    /// Epoch `u64`, then count `u32` and each (key, node key, power `u64`).
    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.array(Array(keys.indices)) { w, index in
            w.fixed(keys[index].bytes)
            w.fixed(nodeKeys[index].bytes)
            w.u64(powers[index])
        }
    }

    /// Refuses an empty set (a set always has a validator).
    public static func decode(from reader: inout WireReader, _ what: String) throws(WireError) -> ValidatorSet {
        let epoch = try reader.u64("\(what) epoch")
        let validators = try reader.array(what, limit: ConsensusLimits.maxValidators) { (r: inout WireReader) throws(WireError) in
            Genesis.Validator(publicKey: try PublicKey.decode(from: &r, "validator key"),
                              nodeKey: try PublicKey.decode(from: &r, "validator node key"), power: try r.u64("validator power"))
        }
        guard !validators.isEmpty else { throw .nonCanonical("\(what) without validators") }
        return ValidatorSet(epoch: epoch, validators: validators)
    }

    /// Distinct signers holding a quorum, each signature valid over `message`.
    public func isQuorum(_ signers: [SignedBy], signing message: [UInt8]) -> Bool {
        let indices = signers.map(\.index)
        guard Set(indices).count == indices.count, power(of: indices) >= quorumPower else { return false }
        return signers.allSatisfy { signer in
            keys.indices.contains(signer.index) && keys[signer.index].isValidSignature(signer.signature, for: message)
        }
    }
}
