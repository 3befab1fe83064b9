/// A detached Ed25519 signature (R || S, 64 bytes).
public struct Signature: Hashable, Sendable, CustomStringConvertible, ContiguousBytes {
    public static let size = 64
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.size else {
            throw .invalidLength(what: "signature", expected: Self.size, actual: bytes.count)
        }
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { String(hex.prefix(16)) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
}
