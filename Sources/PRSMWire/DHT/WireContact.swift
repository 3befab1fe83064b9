/// A contact as a `Nodes` reply carries it: public key (the receiver derives the NodeID itself)
/// and the address to reach it at.
public struct WireContact: Hashable, Sendable {
    public let publicKey: PublicKey
    public let address: PeerAddress

    public init(publicKey: PublicKey, address: PeerAddress) {
        self.publicKey = publicKey
        self.address = address
    }

    public func encode(into writer: inout WireWriter) {
        writer.fixed(publicKey.bytes)
        address.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> WireContact {
        WireContact(publicKey: try PublicKey.decode(from: &reader, "contact key"),
                    address: try PeerAddress.decode(from: &reader))
    }
}
