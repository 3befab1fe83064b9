@testable import PRSMCore

/// SplitMix64: a tiny seeded generator, so every routing-table test is reproducible.
struct RoutingTestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
    mutating func key() -> PublicKey { try! PublicKey(bytes(32)) }
    mutating func nodeID() -> NodeID { NodeID(digest: try! Digest32(bytes(32))) }

    /// A fresh key whose id falls in `region` of `bucket` of `table`.
    mutating func key(inBucket bucket: Int, region: Int, of table: RoutingTable) -> PublicKey {
        while true {
            let candidate = key(inBucket: bucket, of: table)
            if table.region(of: candidate.nodeID, inBucket: bucket) == region { return candidate }
        }
    }

    /// A fresh key whose id falls in `bucket` of `table` (cheap for small bucket indices).
    mutating func key(inBucket bucket: Int, of table: RoutingTable) -> PublicKey {
        while true {
            let candidate = key()
            if table.bucketIndex(of: candidate.nodeID) == bucket { return candidate }
        }
    }
}

/// Address number `n` in its own IPv4 /24 (10.x.y.1), so IP limits never interfere by accident.
func distinctAddress(_ n: Int) -> PeerAddress {
    .ipv4(10, UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF), 1, port: 7000)
}

extension RoutingTable.Config {
    /// Small buckets, no liveness grace period and no spread rule (its own tests turn it on), for
    /// readable tests of the least-recently-seen rules.
    static func small(k: Int = 4, cache: Int = 3) -> RoutingTable.Config {
        var config = RoutingTable.Config()
        config.k = k
        config.replacementCacheSize = cache
        config.livenessCheckAfterMs = 0
        config.spreadBits = 0
        return config
    }
}

/// `id` with bit `bit` (0 = most significant) flipped.
func flipping(_ id: NodeID, bit: Int) -> NodeID {
    var bytes = id.bytes
    bytes[bit / 8] ^= UInt8(0x80) >> (bit % 8)
    return NodeID(digest: try! Digest32(bytes))
}
