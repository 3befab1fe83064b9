/// Reply to STORE: whether the record is now held, and if not, why.
/// Payload: request id u64, token bytes, status u8.
public struct StoreReply: Hashable, Sendable {
    public enum Status: UInt8, Sendable, CaseIterable {
        case stored = 0
        /// The requester already has its per-peer quota of records here.
        case peerQuotaFull = 1
        /// This node holds its total quota and nothing older may be evicted for it.
        case storeFull = 2
        /// The request carried no valid address token for its source address.
        case badToken = 3
    }

    public let requestID: UInt64
    public let token: [UInt8]
    public let status: Status

    public init(requestID: UInt64, token: [UInt8], status: Status) {
        self.requestID = requestID
        self.token = token
        self.status = status
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(requestID)
        writer.bytes(token)
        writer.u8(status.rawValue)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> StoreReply {
        let id = try reader.u64("stored request id")
        let token = try DHTToken.decode(from: &reader)
        guard let status = Status(rawValue: try reader.u8("store status")) else {
            throw .nonCanonical("unknown store status")
        }
        return StoreReply(requestID: id, token: token, status: status)
    }
}
