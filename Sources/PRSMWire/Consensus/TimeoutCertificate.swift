import PRSMCrypto

/// Timeouts of more than 2/3 of the power for one view: the next view may start without a QC.
/// Each entry is a signer, the high-QC view it reported, and its signature.
public struct TimeoutCertificate: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public let signer: SignedBy
        public let highQCView: UInt64

        public init(signer: SignedBy, highQCView: UInt64) {
            self.signer = signer
            self.highQCView = highQCView
        }
    }

    public let view: UInt64
    public let entries: [Entry]

    public init(view: UInt64, entries: [Entry]) {
        self.view = view
        self.entries = entries.sorted { $0.signer.index < $1.signer.index }
    }

    /// The highest QC view any signer reported: a proposal after this TC must extend a QC at
    /// least that high, so nothing a quorum may have locked on is skipped.
    public var highestQCView: UInt64 { entries.map(\.highQCView).max() ?? 0 }

    public func encode(into writer: inout WireWriter) {
        writer.u64(view)
        writer.array(entries) { w, entry in
            entry.signer.encode(into: &w)
            w.u64(entry.highQCView)
        }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> TimeoutCertificate {
        let view = try reader.view("TC view")
        let entries = try reader.array("TC entries", limit: ConsensusLimits.maxValidators) {
            (r: inout WireReader) throws(WireError) in
            Entry(signer: try SignedBy.decode(from: &r), highQCView: try r.view("TC high QC view"))
        }
        guard zip(entries, entries.dropFirst()).allSatisfy({ $0.signer.index < $1.signer.index }) else {
            throw .nonCanonical("TC entries must be in ascending, distinct signer order")
        }
        return TimeoutCertificate(view: view, entries: entries)
    }

    public func isValid(for validators: ValidatorSet) -> Bool {
        let indices = entries.map(\.signer.index)
        guard Set(indices).count == indices.count, validators.power(of: indices) >= validators.quorumPower else {
            return false
        }
        return entries.allSatisfy { entry in
            validators.keys.indices.contains(entry.signer.index)
                && validators.keys[entry.signer.index].isValidSignature(
                    entry.signer.signature,
                    for: TimeoutVote.signingBytes(epoch: validators.epoch, view: view, highQCView: entry.highQCView))
        }
    }
}
