/// Answer to a Ping: the same nonce, and the address the Ping arrived from (so a node behind
/// NAT learns how others see it). Payload: nonce u64, observed address.
public struct Pong: Hashable, Sendable {
    public let nonce: UInt64
    public let observedAddress: PeerAddress

    public init(nonce: UInt64, observedAddress: PeerAddress) {
        self.nonce = nonce
        self.observedAddress = observedAddress
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(nonce)
        observedAddress.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Pong {
        Pong(nonce: try reader.u64("pong nonce"), observedAddress: try PeerAddress.decode(from: &reader))
    }
}
