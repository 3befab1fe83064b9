import PRSMCrypto

/// A validator's vote for a block in a view, sent to the leader of the next view.
public struct Vote: Hashable, Sendable {
    public let epoch: UInt64
    public let view: UInt64
    public let blockHash: Digest32
    public let voter: SignedBy

    public init(epoch: UInt64, view: UInt64, blockHash: Digest32, voter: SignedBy) {
        self.epoch = epoch
        self.view = view
        self.blockHash = blockHash
        self.voter = voter
    }

    /// What a vote signs: domain, epoch, view, block hash (so a vote can never be replayed into
    /// another epoch, view or block, nor mistaken for a timeout).
    public static func signingBytes(epoch: UInt64, view: UInt64, blockHash: Digest32) -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("prsm-vote".utf8))
        writer.u64(epoch)
        writer.u64(view)
        writer.fixed(blockHash.bytes)
        return writer.bytesWritten
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.u64(view)
        writer.fixed(blockHash.bytes)
        voter.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Vote {
        Vote(epoch: try reader.u64("vote epoch"), view: try reader.view("vote view"),
             blockHash: try Digest32.decode(from: &reader, "vote block"), voter: try SignedBy.decode(from: &reader))
    }
}
