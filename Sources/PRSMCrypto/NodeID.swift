/// A node's identity in the DHT keyspace: BLAKE2b-256 of its Ed25519 public key.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let digest: Digest32

    public init(digest: Digest32) { self.digest = digest }

    public var bytes: [UInt8] { digest.bytes }
    public var hex: String { digest.hex }
    public var description: String { String(hex.prefix(16)) }

    /// XOR distance to another id, as a 32-byte big-endian number.
    public func distance(to other: NodeID) -> Digest32 {
        Digest32(unchecked: zip(bytes, other.bytes).map { $0 ^ $1 })
    }

    /// Number of leading bits shared with another id (256 when equal); the Kademlia bucket index.
    public func commonPrefixLength(with other: NodeID) -> Int {
        for (index, (a, b)) in zip(bytes, other.bytes).enumerated() where a != b {
            return index * 8 + (a ^ b).leadingZeroBitCount
        }
        return 256
    }

    /// `count` (at most 16) bits starting at bit `start` (bit 0 is the most significant), as an
    /// integer; bits past the end of the id read as 0.
    public func bits(from start: Int, count: Int) -> Int {
        precondition(start >= 0 && (0...16).contains(count), "bits(from:count:) reads 0 to 16 bits")
        let bytes = digest.bytes
        var value = 0
        for bit in start..<(start + count) {
            let set = bit < 256 && bytes[bit / 8] & (UInt8(0x80) >> (bit % 8)) != 0
            value = value << 1 | (set ? 1 : 0)
        }
        return value
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.digest < rhs.digest }
}
