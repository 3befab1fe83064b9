/// The address book's storage form: key = the peer's public key; value = its address,
/// last-seen time (unix ms), roles and the listen addresses from its Hello, in the canonical wire
/// encoding. Entries written before listen addresses were kept end after the roles and read back
/// with none.
public enum AddressBookCodec {
    public static func encode(_ peer: KnownPeer) -> (key: [UInt8], value: [UInt8]) {
        var writer = WireWriter()
        peer.address.encode(into: &writer)
        writer.u64(peer.lastSeenMs)
        writer.u8(peer.roles.rawValue)
        writer.array(Array(peer.listenAddresses.prefix(Hello.maxListenAddresses))) { $1.encode(into: &$0) }
        return (peer.key.bytes, writer.bytesWritten)
    }

    public static func decode(key: [UInt8], value: [UInt8]) throws(WireError) -> KnownPeer {
        let publicKey: PublicKey
        do { publicKey = try PublicKey(key) } catch { throw .truncated("address book key") }
        var reader = WireReader(bytes: value)
        let address = try PeerAddress.decode(from: &reader)
        let lastSeen = try reader.u64("last seen")
        let roles = Roles(rawValue: try reader.u8("roles"))
        var listen: [PeerAddress] = []
        if reader.remaining > 0 {
            listen = try reader.array("listen addresses", limit: Hello.maxListenAddresses) {
                (r: inout WireReader) throws(WireError) in try PeerAddress.decode(from: &r)
            }
        }
        try reader.finish()
        guard Roles.known.isSuperset(of: roles) else { throw .nonCanonical("unknown role bits") }
        return KnownPeer(key: publicKey, address: address, lastSeenMs: lastSeen, roles: roles, listenAddresses: listen)
    }
}
