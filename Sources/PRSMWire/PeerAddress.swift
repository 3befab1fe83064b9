/// An IP address and UDP/TCP port, as carried in messages (observed and listen addresses) and
/// used by transports. Encoding: family u8 (4 or 6), 4 or 16 address bytes, port u16.
public struct PeerAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        case v4([UInt8])
        case v6([UInt8])
    }

    public let host: Host
    public let port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) -> PeerAddress {
        PeerAddress(host: .v4([a, b, c, d]), port: port)
    }

    public var hostBytes: [UInt8] {
        switch host {
        case let .v4(bytes), let .v6(bytes): return bytes
        }
    }

    /// The unit of IP reputation (scores and bans): the IPv4 address, or the IPv6 /64, since one
    /// subscriber usually holds a whole /64 and could step around a ban on a single address.
    public var reputationHost: [UInt8] {
        switch host {
        case let .v4(bytes): return bytes
        case let .v6(bytes): return Array(bytes.prefix(8))
        }
    }

    /// The prefix used for per-network limits: /24 for IPv4, /48 for IPv6.
    public var limitPrefix: [UInt8] {
        switch host {
        case let .v4(bytes): return [4] + bytes.prefix(3)
        case let .v6(bytes): return [6] + bytes.prefix(6)
        }
    }

    public var hostString: String {
        switch host {
        case let .v4(bytes):
            return bytes.map(String.init).joined(separator: ".")
        case let .v6(bytes):
            return stride(from: 0, to: 16, by: 2)
                .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
    }

    public var description: String {
        switch host {
        case .v4: return "\(hostString):\(port)"
        case .v6: return "[\(hostString)]:\(port)"
        }
    }

    /// IPv4 before IPv6, then by address bytes, then by port.
    public static func < (lhs: PeerAddress, rhs: PeerAddress) -> Bool {
        let (l, r) = (lhs.hostBytes, rhs.hostBytes)
        if l.count != r.count { return l.count < r.count }
        if l != r { return l.lexicographicallyPrecedes(r) }
        return lhs.port < rhs.port
    }

    public func encode(into writer: inout WireWriter) {
        switch host {
        case let .v4(bytes): writer.u8(4); writer.fixed(bytes)
        case let .v6(bytes): writer.u8(6); writer.fixed(bytes)
        }
        writer.u16(port)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> PeerAddress {
        let family = try reader.u8("address family")
        let host: Host
        switch family {
        case 4:
            host = .v4(try reader.fixed(4, "IPv4 address"))
        case 6:
            let bytes = try reader.fixed(16, "IPv6 address")
            // IPv4 peers are written as family 4; an IPv4-mapped IPv6 form would be a second encoding.
            if bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
                throw .nonCanonical("IPv4-mapped IPv6 address")
            }
            host = .v6(bytes)
        default:
            throw .nonCanonical("address family \(family)")
        }
        return PeerAddress(host: host, port: try reader.u16("port"))
    }
}
