/// Zero padding at the end of a request (anti-amplification); non-zero bytes are non-canonical.
enum Padding {
    static func encode(_ count: Int, into writer: inout WireWriter) {
        writer.bytes([UInt8](repeating: 0, count: count))
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> Int {
        let padding = try reader.bytes("padding", limit: DHTLimits.maxPadding)
        guard padding.allSatisfy({ $0 == 0 }) else { throw .nonCanonical("padding must be zero bytes") }
        return padding.count
    }
}
