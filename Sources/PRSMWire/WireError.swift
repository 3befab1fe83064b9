/// Why bytes could not be decoded. Decoding never traps: every failure is one of these.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(String)
    case trailingBytes(Int)
    case overLimit(String, length: Int, limit: Int)
    case nonCanonical(String)
    case unknownKind(UInt16)
    case invalidGenesis(String)

    public var description: String {
        switch self {
        case let .truncated(what): return "truncated while reading \(what)"
        case let .trailingBytes(count): return "\(count) unexpected trailing bytes"
        case let .overLimit(what, length, limit): return "\(what) is \(length), over the limit of \(limit)"
        case let .nonCanonical(what): return "non-canonical encoding: \(what)"
        case let .unknownKind(kind): return "unknown message kind 0x\(String(kind, radix: 16))"
        case let .invalidGenesis(why): return "invalid genesis: \(why)"
        }
    }
}
