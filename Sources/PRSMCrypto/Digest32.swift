/// A 32-byte value: BLAKE2b-256 digests, network ids, record keys.
public struct Digest32: Hashable, Sendable, Comparable, CustomStringConvertible, ContiguousBytes {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == 32 else { throw .invalidLength(what: "digest", expected: 32, actual: bytes.count) }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public init(hex: String) throws(CryptoError) {
        try self.init(try Hex.decode(hex))
    }

    public static let zero = Digest32(unchecked: [UInt8](repeating: 0, count: 32))

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    public static func < (lhs: Digest32, rhs: Digest32) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
