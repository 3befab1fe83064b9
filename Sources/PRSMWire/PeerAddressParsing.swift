import NIOCore

/// Conversions between `PeerAddress` and text ("1.2.3.4:7700", "[::1]:7700") or NIO's
/// `SocketAddress`. Pure: no name resolution, numeric addresses only.
extension PeerAddress {
    public init(parsing text: String) throws(AddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .invalid(text, "IPv6 addresses are written [addr]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalid(text, "expected host:port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else { throw .invalid(text, "port must be 0–65535") }
        let socket: SocketAddress
        do { socket = try SocketAddress(ipAddress: String(host), port: Int(port)) } catch {
            throw .invalid(text, "not a numeric IPv4 or IPv6 address")
        }
        guard let address = PeerAddress(socket) else { throw .invalid(text, "unsupported address family") }
        self = address
    }

    /// Nil for non-IP sockets. IPv4-mapped IPv6 addresses become IPv4, the canonical form.
    public init?(_ socket: SocketAddress) {
        switch socket {
        case let .v4(address):
            let bytes = withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
            self.init(host: .v4(bytes), port: UInt16(socket.port ?? 0))
        case let .v6(address):
            let bytes = withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
            if bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
                self.init(host: .v4(Array(bytes.suffix(4))), port: UInt16(socket.port ?? 0))
            } else {
                self.init(host: .v6(bytes), port: UInt16(socket.port ?? 0))
            }
        case .unixDomainSocket:
            return nil
        }
    }

    public var socketAddress: SocketAddress {
        // Packed 4- or 16-byte addresses are always accepted.
        try! SocketAddress(packedIPAddress: ByteBuffer(bytes: hostBytes), port: Int(port))
    }
}

public enum AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String, String)

    public var description: String {
        switch self {
        case let .invalid(text, why): return "invalid address '\(text)': \(why)"
        }
    }
}
