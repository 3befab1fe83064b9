@testable import PRSMSim
import Testing

/// The simulator's generator is SplitMix64 with FNV-1a-labelled streams: reproducible on every
/// machine, and independent per label.
@Suite("SimRandom")
struct SimRandomTests {
    static func first(_ count: Int, _ generator: SimRandom) -> [UInt64] {
        var generator = generator
        return (0..<count).map { _ in generator.next() }
    }

    @Test("SplitMix64 reference values (computed independently, in Python)")
    func referenceValues() {
        #expect(Self.first(3, SimRandom(seed: 0)) == [0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4, 0x06c4_5d18_8009_454f])
        #expect(Self.first(3, SimRandom(seed: 7, stream: "network"))
                == [0x3176_8df2_9999_aeb6, 0xf646_108f_bdea_904c, 0x60fd_3a06_6681_8b35])
        #expect(Self.first(2, SimRandom(seed: 7, stream: "node.a.1")) == [0x33ae_d28d_43c6_3ee4, 0x5476_647d_4fb0_1014])
    }

    @Test("a stream is reproducible")
    func reproducible() {
        #expect(Self.first(100, SimRandom(seed: 42, stream: "workload.a.1"))
                == Self.first(100, SimRandom(seed: 42, stream: "workload.a.1")))
    }

    @Test("streams of different labels or seeds are distinct")
    func distinct() {
        let labels = ["network", "schedule", "node.a.1", "node.a.2", "node.b.1", "workload.a.1", ""]
        var prefixes: Set<[UInt64]> = []
        for seed: UInt64 in [0, 1, 2] {
            for label in labels { prefixes.insert(Self.first(4, SimRandom(seed: seed, stream: label))) }
        }
        #expect(prefixes.count == labels.count * 3)
        // The first values of all those streams share nothing either.
        #expect(Set(prefixes.flatMap { $0 }).count == labels.count * 3 * 4)
    }

    @Test("below stays below its bound and reaches every value")
    func below() {
        var random = SimRandom(seed: 3, stream: "below")
        var seen = Set<UInt64>()
        for _ in 0..<2_000 {
            let value = random.below(7)
            #expect(value < 7)
            seen.insert(value)
        }
        #expect(seen.count == 7)
        #expect(random.below(1) == 0)
    }

    @Test("chance: never at 0, always at one million, near the rate between")
    func chance() {
        var random = SimRandom(seed: 5, stream: "chance")
        #expect((0..<1_000).allSatisfy { _ in !random.chance(perMillion: 0) })
        #expect((0..<1_000).allSatisfy { _ in random.chance(perMillion: 1_000_000) })
        let hits = (0..<100_000).filter { _ in random.chance(perMillion: 250_000) }.count
        #expect((24_000...26_000).contains(hits), "\(hits) of 100000 at 25%")
    }
}
