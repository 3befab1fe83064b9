/// Reply to FIND_NODE (and to FIND_VALUE when the responder holds no record): the closest
/// contacts it knows, nearest first, and a fresh address token for the requester.
/// Payload: request id u64, token bytes, contacts (count-prefixed, at most 20).
public struct NodesReply: Hashable, Sendable {
    public let requestID: UInt64
    public let token: [UInt8]
    public let contacts: [WireContact]

    public init(requestID: UInt64, token: [UInt8], contacts: [WireContact]) {
        self.requestID = requestID
        self.token = token
        self.contacts = contacts
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(requestID)
        writer.bytes(token)
        writer.array(contacts) { $1.encode(into: &$0) }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> NodesReply {
        let id = try reader.u64("nodes request id")
        let token = try DHTToken.decode(from: &reader)
        let contacts = try reader.array("contacts", limit: DHTLimits.maxContacts) {
            (r: inout WireReader) throws(WireError) in try WireContact.decode(from: &r)
        }
        return NodesReply(requestID: id, token: token, contacts: contacts)
    }
}
