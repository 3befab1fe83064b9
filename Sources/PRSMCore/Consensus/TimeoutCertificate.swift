import PRSMWire

/// A validator giving up on a view, carrying the view of the highest QC it knows (Jolteon).
public struct TimeoutVote: Sendable, Equatable {
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
}

/// Timeouts of more than 2/3 of the power for one view: the next view may start without a QC.
/// Each entry is a signer, the high-QC view it reported, and its signature.
public struct TimeoutCertificate: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let signer: SignedBy
        public let highQCView: UInt64
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
