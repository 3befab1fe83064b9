/// FIND_VALUE: asks for the record stored under `key`, or the closest contacts when the responder
/// has none. Payload: request header, key (32 bytes), padding.
public struct FindValue: Hashable, Sendable {
    public let header: DHTRequestHeader
    public let key: Digest32
    public let padding: Int

    public init(header: DHTRequestHeader, key: Digest32, padding: Int = 0) {
        self.header = header
        self.key = key
        self.padding = max(0, min(padding, DHTLimits.maxPadding))
    }

    public func encode(into writer: inout WireWriter) {
        header.encode(into: &writer)
        writer.fixed(key.bytes)
        Padding.encode(padding, into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> FindValue {
        let header = try DHTRequestHeader.decode(from: &reader)
        let key = try Digest32.decode(from: &reader, "find-value key")
        return FindValue(header: header, key: key, padding: try Padding.decode(from: &reader))
    }
}
