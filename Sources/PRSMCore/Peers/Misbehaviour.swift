/// Typed evidence that a peer (a key) or a source (an IP address) misbehaved, as the peer layer
/// saw it. The peer core emits it for handshake refusals and bans; the CircuitBreaker consumes it.
/// Local observations, not provable evidence: nothing here is signed by the culprit.
public struct Misbehaviour: Equatable, Sendable, CustomStringConvertible {
    /// Who misbehaved: a signing key, or an IP source (an IPv4 address, or an IPv6 /64 as its
    /// 8 prefix bytes; no port) when the offence was found before a signature was checked.
    public enum Subject: Hashable, Sendable, CustomStringConvertible {
        case key(PublicKey)
        case ip([UInt8])

        public var description: String {
            switch self {
            case let .key(key):
                return "key \(key)"
            case let .ip(bytes) where bytes.count == 4:
                return "ip \(bytes.map(String.init).joined(separator: "."))"
            case let .ip(bytes) where bytes.count == 8:
                return "ip " + stride(from: 0, to: 8, by: 2)
                    .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                    .joined(separator: ":") + "::/64"
            case let .ip(bytes):
                return "ip \(bytes)"
            }
        }
    }

    public enum Kind: String, Sendable, CaseIterable {
        case invalidMessage = "invalid-message"
        case rateLimited = "rate-limited"
        case timeout = "timeout"
        case wrongNetwork = "wrong-network"
        case unsupportedVersion = "unsupported-version"
        /// The subject's score reached the ban threshold; `detail` says until when.
        case banned = "banned"
    }

    public let subject: Subject
    public let kind: Kind
    public let atMs: UInt64
    public let detail: String

    public init(subject: Subject, kind: Kind, atMs: UInt64, detail: String) {
        self.subject = subject
        self.kind = kind
        self.atMs = atMs
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) by \(subject) at \(atMs): \(detail)" }
}
