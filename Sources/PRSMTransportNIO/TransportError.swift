/// Errors of the NIO transports, with messages an operator can act on.
public enum TransportError: Error, CustomStringConvertible, Sendable {
    case bindFailed(String, String)
    case connectFailed(String, String)
    case frameTooLarge(Int, limit: Int)
    case idleTimeout
    case notIP(String)

    public var description: String {
        switch self {
        case let .bindFailed(address, why): return "cannot listen on \(address): \(why)"
        case let .connectFailed(address, why): return "cannot connect to \(address): \(why)"
        case let .frameTooLarge(size, limit): return "frame of \(size) bytes exceeds the limit of \(limit)"
        case .idleTimeout: return "stream idle for too long"
        case let .notIP(address): return "\(address) is not an IP address"
        }
    }
}
