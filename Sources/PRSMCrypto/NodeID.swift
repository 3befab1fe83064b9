/// A node's identity in the DHT keyspace: BLAKE2b-256 of its Ed25519 public key.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let digest: Digest32

    public init(digest: Digest32) { self.digest = digest }

    public var bytes: [UInt8] { digest.bytes }
    public var hex: String { digest.hex }
    public var description: String { String(hex.prefix(16)) }

    /// XOR distance to another id, as a 32-byte big-endian number.
    public func distance(to other: NodeID) -> Digest32 {
        Digest32(digest.value ^ other.digest.value)
    }

    /// Number of leading bits shared with another id (256 when equal); the Kademlia bucket index.
    public func commonPrefixLength(with other: NodeID) -> Int {
        let x = (digest.value ^ other.digest.value).bigEndianWords
        if x.0 != 0 { return x.0.leadingZeroBitCount }
        if x.1 != 0 { return 64 + x.1.leadingZeroBitCount }
        if x.2 != 0 { return 128 + x.2.leadingZeroBitCount }
        return 192 + x.3.leadingZeroBitCount
    }

    /// `count` (at most 16) bits starting at bit `start` (bit 0 is the most significant), as an
    /// integer; bits past the end of the id read as 0.
    public func bits(from start: Int, count: Int) -> Int {
        precondition(start >= 0 && (0...16).contains(count), "bits(from:count:) reads 0 to 16 bits")
        let bytes = digest.value
        var value = 0
        for bit in start..<(start + count) {
            let set = bit < 256 && bytes[bit / 8] & (UInt8(0x80) >> (bit % 8)) != 0
            value = value << 1 | (set ? 1 : 0)
        }
        return value
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.digest < rhs.digest }
}
