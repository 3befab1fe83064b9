import PRSMCrypto

/// The validators of one epoch, in genesis order, with their voting power. A quorum is more than
/// two thirds of the total power, so with n ≥ 3f + 1 equal validators any two quorums share an
/// honest one.
public struct ValidatorSet: Hashable, Sendable {
    public let epoch: UInt64
    public let keys: [PublicKey]
    public let powers: [UInt64]
    public let totalPower: UInt64

    public init(epoch: UInt64, validators: [Genesis.Validator]) {
        precondition(!validators.isEmpty, "a validator set needs at least one validator")
        precondition(validators.count <= ConsensusLimits.maxValidators, "too many validators for one set")
        self.epoch = epoch
        keys = validators.map(\.publicKey)
        powers = validators.map { max(1, $0.power) }
        totalPower = powers.reduce(0, +)
    }

    public var count: Int { keys.count }

    /// The smallest power that is more than 2/3 of the total.
    public var quorumPower: UInt64 { totalPower * 2 / 3 + 1 }

    /// Power that can be faulty without breaking safety: less than 1/3 of the total.
    public var faultTolerance: UInt64 { (totalPower - 1) / 3 }

    public func index(of key: PublicKey) -> Int? { keys.firstIndex(of: key) }

    /// Round-robin leader of a view.
    public func leader(of view: UInt64) -> Int { Int(view % UInt64(keys.count)) }

    /// Power of the distinct validator indices given (out-of-range indices count nothing).
    public func power(of indices: some Sequence<Int>) -> UInt64 {
        Set(indices).reduce(0) { $0 + (keys.indices.contains($1) ? powers[$1] : 0) }
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
