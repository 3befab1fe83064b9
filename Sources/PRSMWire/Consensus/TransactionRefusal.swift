/// One transaction a node would not admit: its hash, a reason a program can act on, and a
/// short text for people.
public struct TransactionRefusal: Hashable, Sendable, CustomStringConvertible {
    public enum Reason: UInt8, Sendable, CaseIterable {
        /// The mempool's count or byte limit is reached: resubmit later.
        case poolFull = 1
        /// The sender holds as many pending transactions as one sender may: resubmit later.
        case senderFull = 2
        /// Too many transactions already wait behind nonce gaps: send the missing nonce first.
        case gappedFull = 3
        /// The nonce is used already: this transaction can never run.
        case staleNonce = 4
        /// The nonce is too far above the sender's next one.
        case nonceTooFar = 5
        /// Another transaction of the sender already holds this nonce.
        case nonceTaken = 6
        /// The sender's signature does not verify.
        case badSignature = 7
        /// The application's `checkTx` refused it (the text says why).
        case rejected = 8
        /// This node does not run consensus: send it to one that does.
        case notRunning = 9

        /// Whether the same node may admit the same transaction if it is sent again later.
        public var isTemporary: Bool { self == .poolFull || self == .senderFull || self == .gappedFull }

        public var name: String {
            switch self {
            case .poolFull: return "mempool: full"
            case .senderFull: return "mempool: sender-full"
            case .gappedFull: return "mempool: gapped-full"
            case .staleNonce: return "mempool: stale-nonce"
            case .nonceTooFar: return "mempool: nonce-too-far"
            case .nonceTaken: return "mempool: nonce-taken"
            case .badSignature: return "bad transaction signature"
            case .rejected: return "rejected"
            case .notRunning: return "this node does not run consensus"
            }
        }
    }

    /// Texts longer than this are cut (at a character boundary) before they are sent.
    public static let maxDetailBytes = 160

    public let hash: Digest32
    public let reason: Reason
    /// Why, for people: the application's reason for `rejected`, else empty.
    public let detail: String

    public init(hash: Digest32, reason: Reason, detail: String = "") {
        self.hash = hash
        self.reason = reason
        self.detail = Self.cut(detail)
    }

    /// The application's own text for a `checkTx` refusal, else the reason's name.
    public var description: String { reason == .rejected && !detail.isEmpty ? detail : reason.name }

    public func encode(into writer: inout WireWriter) {
        writer.fixed(hash.bytes)
        writer.u8(reason.rawValue)
        writer.string(detail)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> TransactionRefusal {
        let hash = try Digest32.decode(from: &reader, "refused transaction")
        guard let reason = Reason(rawValue: try reader.u8("refusal reason")) else { throw .nonCanonical("refusal reason") }
        return TransactionRefusal(hash: hash, reason: reason, detail: try reader.string("refusal detail", limit: maxDetailBytes))
    }

    static func cut(_ text: String) -> String {
        guard text.utf8.count > maxDetailBytes else { return text }
        var kept = ""
        for character in text {
            guard kept.utf8.count + character.utf8.count <= maxDetailBytes else { break }
            kept.append(character)
        }
        return kept
    }
}
