import PRSMNode

/// The simulator's seeded generator (SplitMix64): small, fast, and identical on every machine.
/// Every node, link and workload gets its own stream derived from the run seed and a label, so
/// adding a draw in one place does not shift the draws of another.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public init(seed: UInt64, stream: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the label, mixed with the seed
        for byte in stream.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        generator = SplitMix64(seed: seed ^ hash)
        _ = next()
    }

    public mutating func next() -> UInt64 { generator.next() }

    /// Uniform in 0..<bound using integer arithmetic only (bound > 0).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return next() % bound
    }

    /// True with probability perMillion / 1,000,000.
    public mutating func chance(perMillion: UInt32) -> Bool {
        perMillion > 0 && below(1_000_000) < UInt64(perMillion)
    }
}
