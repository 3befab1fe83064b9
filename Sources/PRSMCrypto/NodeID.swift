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

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.digest < rhs.digest }
}
