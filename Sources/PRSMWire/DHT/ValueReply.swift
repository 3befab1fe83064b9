/// Reply to FIND_VALUE from a node holding the record. The requester checks that the value
/// hashes to the key it asked for. Payload: request id u64, token bytes, value bytes.
public struct ValueReply: Hashable, Sendable {
    public let requestID: UInt64
    public let token: [UInt8]
    public let value: [UInt8]

    public init(requestID: UInt64, token: [UInt8], value: [UInt8]) {
        self.requestID = requestID
        self.token = token
        self.value = value
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(requestID)
        writer.bytes(token)
        writer.bytes(value)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> ValueReply {
        let id = try reader.u64("value request id")
        let token = try DHTToken.decode(from: &reader)
        return ValueReply(requestID: id, token: token, value: try reader.bytes("value", limit: DHTLimits.maxValueSize))
    }
}
