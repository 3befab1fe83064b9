/// An epoch ended with `lastBlock` (its execution named a new validator set); the next epoch's
/// validators take over on top of it, from view 1. `proof` shows `lastBlock` final to nodes
/// that were not there; nil when the commit came with no 2-chain the core still holds (the
/// unsafe 1-chain test rule, a replay after a restart, or more than 64 blocks above it).
public struct EpochChange: Sendable, Equatable {
    public let validators: ValidatorSet
    public let lastBlock: Block
    public let proof: EpochProof?

    public init(validators: ValidatorSet, lastBlock: Block, proof: EpochProof?) {
        self.validators = validators
        self.lastBlock = lastBlock
        self.proof = proof
    }

    public var epoch: UInt64 { validators.epoch }
}
