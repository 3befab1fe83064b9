/// STORE of an immutable record: its key is BLAKE2b-256 of `value`, so the key is not sent.
/// Only accepted with a valid address token. Payload: request header, value bytes.
public struct StoreRequest: Hashable, Sendable {
    public let header: DHTRequestHeader
    public let value: [UInt8]

    public init(header: DHTRequestHeader, value: [UInt8]) {
        self.header = header
        self.value = value
    }

    public var key: Digest32 { Blake2b.hash256(value) }

    public func encode(into writer: inout WireWriter) {
        header.encode(into: &writer)
        writer.bytes(value)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> StoreRequest {
        let header = try DHTRequestHeader.decode(from: &reader)
        return StoreRequest(header: header, value: try reader.bytes("stored value", limit: DHTLimits.maxValueSize))
    }
}
