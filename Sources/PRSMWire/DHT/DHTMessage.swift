import NIOCore

/// The DHT's messages (kinds 0x01xx). PING is the peer layer's Ping/Pong.
public enum DHTMessage: Hashable, Sendable {
    case findNode(FindNode)
    case nodes(NodesReply)
    case findValue(FindValue)
    case value(ValueReply)
    case store(StoreRequest)
    case stored(StoreReply)

    public var kind: MessageKind {
        switch self {
        case .findNode: return .findNode
        case .nodes: return .nodes
        case .findValue: return .findValue
        case .value: return .value
        case .store: return .store
        case .stored: return .stored
        }
    }

    /// The request id a reply echoes (nil for requests).
    public var replyID: UInt64? {
        switch self {
        case let .nodes(reply): return reply.requestID
        case let .value(reply): return reply.requestID
        case let .stored(reply): return reply.requestID
        case .findNode, .findValue, .store: return nil
        }
    }

    func encode(into writer: inout WireWriter) {
        switch self {
        case let .findNode(message): message.encode(into: &writer)
        case let .nodes(message): message.encode(into: &writer)
        case let .findValue(message): message.encode(into: &writer)
        case let .value(message): message.encode(into: &writer)
        case let .store(message): message.encode(into: &writer)
        case let .stored(message): message.encode(into: &writer)
        }
    }

    static func decode(_ kind: MessageKind, from reader: inout WireReader) throws(WireError) -> DHTMessage? {
        switch kind {
        case .findNode: return .findNode(try FindNode.decode(from: &reader))
        case .nodes: return .nodes(try NodesReply.decode(from: &reader))
        case .findValue: return .findValue(try FindValue.decode(from: &reader))
        case .value: return .value(try ValueReply.decode(from: &reader))
        case .store: return .store(try StoreRequest.decode(from: &reader))
        case .stored: return .stored(try StoreReply.decode(from: &reader))
        default: return nil
        }
    }
}
