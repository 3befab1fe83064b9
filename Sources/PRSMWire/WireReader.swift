import NIOCore

/// Reads the canonical encoding, rejecting truncation, over-limit lengths and (in `finish`)
/// trailing bytes. Every length is checked against a caller-stated limit before allocating.
public struct WireReader {
    private var buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) { self.buffer = buffer }
    public init(bytes: [UInt8]) { self.buffer = ByteBuffer(bytes: bytes) }

    public var remaining: Int { buffer.readableBytes }

    public mutating func u8(_ what: String) throws(WireError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw .truncated(what) }
        return value
    }

    public mutating func u16(_ what: String) throws(WireError) -> UInt16 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt16.self) else { throw .truncated(what) }
        return value
    }

    public mutating func u32(_ what: String) throws(WireError) -> UInt32 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt32.self) else { throw .truncated(what) }
        return value
    }

    public mutating func u64(_ what: String) throws(WireError) -> UInt64 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt64.self) else { throw .truncated(what) }
        return value
    }

    public mutating func fixed(_ count: Int, _ what: String) throws(WireError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else { throw .truncated(what) }
        return bytes
    }

    public mutating func bytes(_ what: String, limit: Int) throws(WireError) -> [UInt8] {
        let length = Int(try u32("\(what) length"))
        guard length <= limit else { throw .overLimit(what, length: length, limit: limit) }
        return try fixed(length, what)
    }

    public mutating func string(_ what: String, limit: Int) throws(WireError) -> String {
        let length = Int(try u16("\(what) length"))
        guard length <= limit else { throw .overLimit(what, length: length, limit: limit) }
        let raw = try fixed(length, what)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .nonCanonical("\(what) is not UTF-8") }
        return text
    }

    public mutating func array<Element>(
        _ what: String, limit: Int, _ read: (inout WireReader) throws(WireError) -> Element
    ) throws(WireError) -> [Element] {
        let count = Int(try u32("\(what) count"))
        guard count <= limit else { throw .overLimit(what, length: count, limit: limit) }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try read(&self)) }
        return elements
    }

    public func finish() throws(WireError) {
        guard buffer.readableBytes == 0 else { throw .trailingBytes(buffer.readableBytes) }
    }
}
