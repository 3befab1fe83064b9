import NIOCore

/// Writes the canonical encoding: fixed-width big-endian integers, u32-length-prefixed bytes,
/// u16-length-prefixed UTF-8 strings, u32-count-prefixed arrays.
public struct WireWriter {
    public private(set) var buffer: ByteBuffer

    public init(buffer: ByteBuffer = ByteBuffer()) { self.buffer = buffer }

    public mutating func u8(_ value: UInt8) { buffer.writeInteger(value) }
    public mutating func u16(_ value: UInt16) { buffer.writeInteger(value, endianness: .big) }
    public mutating func u32(_ value: UInt32) { buffer.writeInteger(value, endianness: .big) }
    public mutating func u64(_ value: UInt64) { buffer.writeInteger(value, endianness: .big) }

    /// Bytes whose length the schema fixes (keys, digests, signatures): no prefix.
    public mutating func fixed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.writeBytes(bytes)
    }

    public mutating func bytes(_ bytes: [UInt8]) {
        u32(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    public mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        u16(UInt16(utf8.count))
        buffer.writeBytes(utf8)
    }

    public mutating func array<Element>(_ elements: [Element], _ write: (inout WireWriter, Element) -> Void) {
        u32(UInt32(elements.count))
        for element in elements { write(&self, element) }
    }

    public var bytesWritten: [UInt8] { Array(buffer.readableBytesView) }
}
