/// Handshake opener: protocol version, the network the sender is on, where it listens (at most
/// `maxListenAddresses`, sorted, no duplicates) and its roles.
public struct Hello: Hashable, Sendable {
    public static let maxListenAddresses = 8

    public let version: UInt16
    public let networkID: Digest32
    public let listenAddresses: [PeerAddress]
    public let roles: Roles

    public init(version: UInt16, networkID: Digest32, listenAddresses: [PeerAddress], roles: Roles) {
        self.version = version
        self.networkID = networkID
        self.listenAddresses = Array(Set(listenAddresses)).sorted()
        self.roles = roles
    }

    public func encode(into writer: inout WireWriter) {
        writer.u16(version)
        writer.fixed(networkID.bytes)
        writer.array(listenAddresses) { $1.encode(into: &$0) }
        writer.u8(roles.rawValue)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Hello {
        let version = try reader.u16("hello version")
        let network = try Digest32.decode(from: &reader, "hello network id")
        let addresses = try reader.array("listen addresses", limit: maxListenAddresses) {
            (r: inout WireReader) throws(WireError) in try PeerAddress.decode(from: &r)
        }
        for (a, b) in zip(addresses, addresses.dropFirst()) where !(a < b) {
            throw .nonCanonical("listen addresses not strictly sorted")
        }
        let roles = Roles(rawValue: try reader.u8("roles"))
        guard Roles.known.isSuperset(of: roles) else { throw .nonCanonical("unknown role bits") }
        return Hello(version: version, networkID: network, listenAddresses: addresses, roles: roles)
    }
}
