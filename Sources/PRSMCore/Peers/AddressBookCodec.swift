/// The address book's storage form: key = the peer's public key; value = its address,
/// last-seen time (unix ms) and roles, in the canonical wire encoding.
public enum AddressBookCodec {
    public static func encode(_ peer: KnownPeer) -> (key: [UInt8], value: [UInt8]) {
        var writer = WireWriter()
        peer.address.encode(into: &writer)
        writer.u64(peer.lastSeenMs)
        writer.u8(peer.roles.rawValue)
        return (peer.key.bytes, writer.bytesWritten)
    }

    public static func decode(key: [UInt8], value: [UInt8]) throws(WireError) -> KnownPeer {
        let publicKey: PublicKey
        do { publicKey = try PublicKey(key) } catch { throw .truncated("address book key") }
        var reader = WireReader(bytes: value)
        let address = try PeerAddress.decode(from: &reader)
        let lastSeen = try reader.u64("last seen")
        let roles = Roles(rawValue: try reader.u8("roles"))
        try reader.finish()
        guard Roles.known.isSuperset(of: roles) else { throw .nonCanonical("unknown role bits") }
        return KnownPeer(key: publicKey, address: address, lastSeenMs: lastSeen, roles: roles)
    }
}
