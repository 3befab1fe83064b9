/// 32 bytes held inline, without a heap allocation: the storage of digests and node ids. A node
/// keeps thousands of these (routing contacts, lookups, records), each computed rather than shared,
/// so as `[UInt8]` every one was its own ~80-byte heap block. (Public keys stay shared arrays: see
/// `PublicKey.bytes`.)
///
/// The words hold the bytes in memory order (as loaded on this machine), so lending the bytes
/// is free; ordering reads them big-endian, which is the bytes' lexicographic order.
public struct Bytes32: Hashable, Sendable, Comparable, ContiguousBytes {
    public static let count = 32
    public static let zero = Bytes32(words: (0, 0, 0, 0))

    private var words: (UInt64, UInt64, UInt64, UInt64)

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// `bytes` must hold exactly 32 bytes (callers check the length and report their own error).
    public init(_ bytes: some ContiguousBytes) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        bytes.withUnsafeBytes { source in
            precondition(source.count == Self.count, "Bytes32 needs 32 bytes, got \(source.count)")
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: source) }
        }
        self.words = words
    }

    /// Fills the 32 bytes through `body` (for C functions that write their output in place).
    public init(filling body: (UnsafeMutableRawBufferPointer) -> Void) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { body($0) }
        self.words = words
    }

    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public subscript(index: Int) -> UInt8 {
        precondition((0..<Self.count).contains(index), "Bytes32 index \(index) out of range")
        return withUnsafeBytes { $0[index] }
    }

    /// The four big-endian 64-bit words: compared in order, they order the bytes lexicographically.
    public var bigEndianWords: (UInt64, UInt64, UInt64, UInt64) {
        (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1), UInt64(bigEndian: words.2), UInt64(bigEndian: words.3))
    }

    /// Byte-wise XOR.
    public static func ^ (lhs: Bytes32, rhs: Bytes32) -> Bytes32 {
        Bytes32(words: (lhs.words.0 ^ rhs.words.0, lhs.words.1 ^ rhs.words.1,
                        lhs.words.2 ^ rhs.words.2, lhs.words.3 ^ rhs.words.3))
    }

    public static func == (lhs: Bytes32, rhs: Bytes32) -> Bool { lhs.words == rhs.words }

    public static func < (lhs: Bytes32, rhs: Bytes32) -> Bool { lhs.bigEndianWords < rhs.bigEndianWords }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
