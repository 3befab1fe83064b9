import PRSMCrypto

/// Signatures of more than 2/3 of an epoch's voting power over one `Checkpoint`.
public struct CheckpointCertificate: Hashable, Sendable {
    public let checkpoint: Checkpoint
    public let votes: [SignedBy]

    public init(checkpoint: Checkpoint, votes: [SignedBy]) {
        self.checkpoint = checkpoint
        self.votes = votes.sorted { $0.index < $1.index }
    }

    /// Signed by a quorum of `validators` (which must be the checkpoint's epoch), each
    /// signature valid, no signer twice.
    public func isValid(for validators: ValidatorSet) -> Bool {
        validators.epoch == checkpoint.epoch && validators.isQuorum(votes, signing: checkpoint.signingBytes)
    }

    public func encode(into writer: inout WireWriter) {
        checkpoint.encode(into: &writer)
        writer.array(votes) { $1.encode(into: &$0) }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> CheckpointCertificate {
        let checkpoint = try Checkpoint.decode(from: &reader)
        let votes = try reader.array("checkpoint votes", limit: ConsensusLimits.maxValidators) {
            (r: inout WireReader) throws(WireError) in try SignedBy.decode(from: &r)
        }
        guard zip(votes, votes.dropFirst()).allSatisfy({ $0.index < $1.index }) else {
            throw .nonCanonical("checkpoint votes must be in ascending, distinct signer order")
        }
        return CheckpointCertificate(checkpoint: checkpoint, votes: votes)
    }
}
