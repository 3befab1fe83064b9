/// Handshake answer: the responder's own Hello, plus the address the opener's Hello arrived from
/// (how the responder sees it: the opener's candidate public address).
/// Payload: Hello, observed address.
public struct HelloReply: Hashable, Sendable {
    public let hello: Hello
    public let observedAddress: PeerAddress

    public init(hello: Hello, observedAddress: PeerAddress) {
        self.hello = hello
        self.observedAddress = observedAddress
    }

    public func encode(into writer: inout WireWriter) {
        hello.encode(into: &writer)
        observedAddress.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> HelloReply {
        HelloReply(hello: try Hello.decode(from: &reader), observedAddress: try PeerAddress.decode(from: &reader))
    }
}
