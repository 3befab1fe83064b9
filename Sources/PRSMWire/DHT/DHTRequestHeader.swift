/// What every DHT request starts with: the id its reply echoes, the requester's mode, and the
/// address token it holds from an earlier reply of this responder (empty when it has none).
/// Payload: request id u64, flags u8 (bit 0: server mode; other bits zero), token bytes (0 or 16).
public struct DHTRequestHeader: Hashable, Sendable {
    public let requestID: UInt64
    /// A server-mode requester may be added to routing tables; a client-mode one never is.
    public let serverMode: Bool
    public let token: [UInt8]

    public init(requestID: UInt64, serverMode: Bool, token: [UInt8] = []) {
        self.requestID = requestID
        self.serverMode = serverMode
        self.token = token
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(requestID)
        writer.u8(serverMode ? 1 : 0)
        writer.bytes(token)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> DHTRequestHeader {
        let id = try reader.u64("dht request id")
        let flags = try reader.u8("dht flags")
        guard flags & ~1 == 0 else { throw .nonCanonical("unknown dht flag bits") }
        let token = try DHTToken.decode(from: &reader)
        return DHTRequestHeader(requestID: id, serverMode: flags == 1, token: token)
    }
}

/// Address tokens on the wire: length-prefixed, exactly `DHTLimits.tokenSize` bytes or empty.
enum DHTToken {
    static func decode(from reader: inout WireReader) throws(WireError) -> [UInt8] {
        let token = try reader.bytes("dht token", limit: DHTLimits.tokenSize)
        guard token.isEmpty || token.count == DHTLimits.tokenSize else {
            throw .nonCanonical("dht token must be empty or \(DHTLimits.tokenSize) bytes")
        }
        return token
    }
}
