import PRSMCrypto

/// A validator giving up on a view, carrying the highest QC it knows (Jolteon) and, when it
/// entered this view by a timeout certificate, that TC: a validator left behind in an earlier
/// view (after a partition) follows the TC instead of waiting for a quorum that is elsewhere.
/// The TC is self-certifying, so it is not covered by the voter's signature.
public struct TimeoutVote: Hashable, Sendable {
    public let epoch: UInt64
    public let view: UInt64
    public let highQC: QuorumCertificate
    public let voter: SignedBy
    public let lastTC: TimeoutCertificate?

    public init(epoch: UInt64, view: UInt64, highQC: QuorumCertificate, voter: SignedBy,
                lastTC: TimeoutCertificate? = nil) {
        self.epoch = epoch
        self.view = view
        self.highQC = highQC
        self.voter = voter
        self.lastTC = lastTC
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
        if let lastTC {
            writer.u8(1)
            lastTC.encode(into: &writer)
        } else {
            writer.u8(0)
        }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> TimeoutVote {
        let epoch = try reader.u64("timeout epoch")
        let view = try reader.view("timeout view")
        let highQC = try QuorumCertificate.decode(from: &reader)
        let voter = try SignedBy.decode(from: &reader)
        let lastTC: TimeoutCertificate?
        switch try reader.u8("timeout TC flag") {
        case 0: lastTC = nil
        case 1: lastTC = try TimeoutCertificate.decode(from: &reader)
        default: throw .nonCanonical("timeout TC flag")
        }
        return TimeoutVote(epoch: epoch, view: view, highQC: highQC, voter: voter, lastTC: lastTC)
    }
}
