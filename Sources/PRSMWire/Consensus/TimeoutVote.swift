import PRSMCrypto

/// A validator giving up on a view, carrying the view of the highest QC it knows (Jolteon).
public struct TimeoutVote: Hashable, Sendable {
    public let epoch: UInt64
    public let view: UInt64
    public let highQC: QuorumCertificate
    public let voter: SignedBy

    public init(epoch: UInt64, view: UInt64, highQC: QuorumCertificate, voter: SignedBy) {
        self.epoch = epoch
        self.view = view
        self.highQC = highQC
        self.voter = voter
    }

    public static func signingBytes(epoch: UInt64, view: UInt64, highQCView: UInt64) -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("prsm-timeout".utf8))
        writer.u64(epoch)
        writer.u64(view)
        writer.u64(highQCView)
        return writer.bytesWritten
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.u64(view)
        highQC.encode(into: &writer)
        voter.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> TimeoutVote {
        TimeoutVote(epoch: try reader.u64("timeout epoch"), view: try reader.u64("timeout view"),
                    highQC: try QuorumCertificate.decode(from: &reader), voter: try SignedBy.decode(from: &reader))
    }
}
