import PRSMWire

/// Votes of more than 2/3 of the voting power for one block in one view. Each vote is the
/// validator's index and its signature over `Vote.signingBytes`.
public struct QuorumCertificate: Sendable, Equatable {
    public let view: UInt64
    public let blockHash: Digest32
    public let votes: [SignedBy]

    public init(view: UInt64, blockHash: Digest32, votes: [SignedBy]) {
        self.view = view
        self.blockHash = blockHash
        self.votes = votes.sorted { $0.index < $1.index }
    }

    /// Certifies the genesis block; needs no votes.
    public static let genesis = QuorumCertificate(view: 0, blockHash: Block.genesisHash, votes: [])

    public var isGenesis: Bool { view == 0 }

    /// Distinct signers holding a quorum, every signature valid. Genesis is valid by definition.
    public func isValid(for validators: ValidatorSet) -> Bool {
        if isGenesis { return true }
        let indices = votes.map(\.index)
        guard Set(indices).count == indices.count, validators.power(of: indices) >= validators.quorumPower else {
            return false
        }
        let message = Vote.signingBytes(epoch: validators.epoch, view: view, blockHash: blockHash)
        return votes.allSatisfy { vote in
            validators.keys.indices.contains(vote.index)
                && validators.keys[vote.index].isValidSignature(vote.signature, for: message)
        }
    }
}

/// One validator's signature, named by its index in the validator set.
public struct SignedBy: Sendable, Equatable {
    public let index: Int
    public let signature: Signature

    public init(index: Int, signature: Signature) {
        self.index = index
        self.signature = signature
    }
}
