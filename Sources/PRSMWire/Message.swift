import NIOCore

/// Every typed message a node can receive, decoded from an envelope's kind and payload.
/// Subsystems beyond the peer layer have their own namespaced case (`.dht(DHTMessage)`, …).
public enum Message: Hashable, Sendable {
    case ping(Ping)
    case pong(Pong)
    case hello(Hello)
    case helloReply(HelloReply)
    case dialBack(DialBack)
    case dht(DHTMessage)
    case consensus(ConsensusMessage)

    public var kind: MessageKind {
        switch self {
        case .ping: return .ping
        case .pong: return .pong
        case .hello: return .hello
        case .helloReply: return .helloReply
        case .dialBack(.request): return .dialBackRequest
        case .dialBack(.relay): return .dialBackRelay
        case .dialBack(.probe): return .dialBackProbe
        case .dialBack(.relayed): return .dialBackRelayed
        case let .dht(message): return message.kind
        case let .consensus(message): return message.kind
        }
    }

    public func encodePayload() -> ByteBuffer {
        var writer = WireWriter()
        switch self {
        case let .ping(ping): ping.encode(into: &writer)
        case let .pong(pong): pong.encode(into: &writer)
        case let .hello(hello): hello.encode(into: &writer)
        case let .helloReply(reply): reply.encode(into: &writer)
        case let .dialBack(dialBack): dialBack.encode(into: &writer)
        case let .dht(message): message.encode(into: &writer)
        case let .consensus(message): message.encode(into: &writer)
        }
        return writer.buffer
    }

    /// Decodes a payload; the whole payload must be consumed.
    public static func decode(kind rawKind: UInt16, payload: ByteBuffer) throws(WireError) -> Message {
        guard let kind = MessageKind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        var reader = WireReader(payload)
        let message: Message
        switch kind {
        case .ping: message = .ping(try Ping.decode(from: &reader))
        case .pong: message = .pong(try Pong.decode(from: &reader))
        case .hello: message = .hello(try Hello.decode(from: &reader))
        case .helloReply: message = .helloReply(try HelloReply.decode(from: &reader))
        case .dialBackRequest: message = .dialBack(.request(nonce: try reader.u64("dial-back nonce")))
        case .dialBackRelay:
            message = .dialBack(.relay(nonce: try reader.u64("dial-back nonce"),
                                       target: try PeerAddress.decode(from: &reader)))
        case .dialBackProbe: message = .dialBack(.probe(nonce: try reader.u64("dial-back nonce")))
        case .dialBackRelayed:
            message = .dialBack(.relayed(nonce: try reader.u64("dial-back nonce"),
                                         via: try PeerAddress.decode(from: &reader)))
        default:
            if let dht = try DHTMessage.decode(kind, from: &reader) {
                message = .dht(dht)
            } else if let consensus = try ConsensusMessage.decode(kind, from: &reader) {
                message = .consensus(consensus)
            } else {
                throw .unknownKind(rawKind)
            }
        }
        try reader.finish()
        return message
    }
}
