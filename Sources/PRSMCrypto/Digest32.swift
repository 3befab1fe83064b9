/// A 32-byte value: BLAKE2b-256 digests, network ids, record keys. Held inline (`Bytes32`).
public struct Digest32: Hashable, Sendable, Comparable, CustomStringConvertible, ContiguousBytes {
    public let value: Bytes32

    public init(_ bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Bytes32.count else {
            throw .invalidLength(what: "digest", expected: Bytes32.count, actual: bytes.count)
        }
        value = Bytes32(bytes)
    }

    public init(_ value: Bytes32) { self.value = value }

    public init(hex: String) throws(CryptoError) {
        try self.init(try Hex.decode(hex))
    }

    public static let zero = Digest32(Bytes32.zero)

    /// A copy of the bytes (allocates: hot paths use `value` or `withUnsafeBytes`).
    public var bytes: [UInt8] { value.array }
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }
    public var description: String { hex }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try value.withUnsafeBytes(body)
    }

    public static func < (lhs: Digest32, rhs: Digest32) -> Bool { lhs.value < rhs.value }
}
