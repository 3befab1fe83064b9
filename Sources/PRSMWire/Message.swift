import NIOCore

/// Every typed message a node can receive, decoded from an envelope's kind and payload.
/// Later subsystems add their own namespaced cases (`.dht(DHTMessage)`, …).
public enum Message: Hashable, Sendable {
    case ping(Ping)
    case pong(Pong)
    case hello(Hello)

    public var kind: MessageKind {
        switch self {
        case .ping: return .ping
        case .pong: return .pong
        case .hello: return .hello
        }
    }

    public func encodePayload() -> ByteBuffer {
        var writer = WireWriter()
        switch self {
        case let .ping(ping): ping.encode(into: &writer)
        case let .pong(pong): pong.encode(into: &writer)
        case let .hello(hello): hello.encode(into: &writer)
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
        }
        try reader.finish()
        return message
    }
}
