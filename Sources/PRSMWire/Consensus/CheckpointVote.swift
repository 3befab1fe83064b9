import PRSMCrypto

/// One validator's signature over a `Checkpoint` it computed itself; sent (as a datagram) to
/// the validators of the checkpoint's epoch, and at an epoch's end also to the next set.
public struct CheckpointVote: Hashable, Sendable {
    public let checkpoint: Checkpoint
    public let voter: SignedBy

    public init(checkpoint: Checkpoint, voter: SignedBy) {
        self.checkpoint = checkpoint
        self.voter = voter
    }

    public func encode(into writer: inout WireWriter) {
        checkpoint.encode(into: &writer)
        voter.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> CheckpointVote {
        CheckpointVote(checkpoint: try Checkpoint.decode(from: &reader), voter: try SignedBy.decode(from: &reader))
    }
}
