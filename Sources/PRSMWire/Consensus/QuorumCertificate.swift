import PRSMCrypto

/// Votes of more than 2/3 of the voting power for one block in one view. Each vote is the
/// validator's index and its signature over `Vote.signingBytes`.
public struct QuorumCertificate: Hashable, Sendable {
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

    /// Only the one genesis QC: view 0, the genesis block, no votes (any other view-0 QC is
    /// invalid, not a second genesis).
    public var isGenesis: Bool { view == 0 && blockHash == Block.genesisHash && votes.isEmpty }

    /// The QC an epoch starts from: view 0, no votes, naming the block the previous epoch ended
    /// with (for epoch 0, the genesis block: `.genesis`). Only a core that committed that block
    /// accepts it; on the wire it proves nothing.
    public static func root(of anchor: Digest32) -> QuorumCertificate {
        QuorumCertificate(view: 0, blockHash: anchor, votes: [])
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(view)
        writer.fixed(blockHash.bytes)
        writer.array(votes) { $1.encode(into: &$0) }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> QuorumCertificate {
        let view = try reader.view("QC view")
        let blockHash = try Digest32.decode(from: &reader, "QC block")
        let votes = try reader.array("QC votes", limit: ConsensusLimits.maxValidators) {
            (r: inout WireReader) throws(WireError) in try SignedBy.decode(from: &r)
        }
        guard zip(votes, votes.dropFirst()).allSatisfy({ $0.index < $1.index }) else {
            throw .nonCanonical("QC votes must be in ascending, distinct signer order")
        }
        return QuorumCertificate(view: view, blockHash: blockHash, votes: votes)
    }

    /// Distinct signers holding a quorum, every signature valid. Genesis is valid by definition,
    /// in epoch 0 only (later epochs start from their own root).
    public func isValid(for validators: ValidatorSet) -> Bool {
        if isGenesis { return validators.epoch == 0 }
        guard view > 0 else { return false }
        return validators.isQuorum(votes, signing: Vote.signingBytes(epoch: validators.epoch, view: view, blockHash: blockHash))
    }
}
