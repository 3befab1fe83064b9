@testable import PRSMSim
import Testing

/// Latency samples stay within their distribution's bounds (integer microseconds) and cover them.
@Suite("SimNetwork latency distributions")
struct SimNetworkLatencyTests {
    static let samples = 20_000

    static func draw(_ latency: LinkModel.Latency, jitterMs: UInt64 = 0, seed: UInt64 = 1) -> [UInt64] {
        var link = LinkModel()
        link.latency = latency
        link.jitterMs = jitterMs
        let network = SimNetwork(world: SimWorld(seed: seed, randomSchedule: false, keepTrace: false), link: link, seed: seed)
        return (0..<samples).map { _ in network.sampleLatencyUs() }
    }

    @Test("fixed: always exactly the latency")
    func fixed() {
        #expect(Set(Self.draw(.fixed(ms: 17))) == [17_000])
    }

    @Test("fixed plus jitter: within [ms, ms + jitter], both ends reached")
    func fixedWithJitter() {
        let values = Self.draw(.fixed(ms: 10), jitterMs: 5)
        #expect(values.allSatisfy { (10_000...15_000).contains($0) })
        #expect(values.min()! < 10_100 && values.max()! > 14_900)
    }

    @Test("uniform: within [min, max], both ends reached, roughly flat")
    func uniform() {
        let values = Self.draw(.uniform(minMs: 10, maxMs: 30))
        #expect(values.allSatisfy { (10_000...30_000).contains($0) })
        #expect(values.min()! < 10_100 && values.max()! > 29_900)
        let lowerHalf = values.filter { $0 < 20_000 }.count
        #expect(abs(lowerHalf - Self.samples / 2) < Self.samples / 20, "lower half: \(lowerHalf) of \(Self.samples)")
    }

    @Test("uniform with min = max is fixed")
    func degenerateUniform() {
        #expect(Set(Self.draw(.uniform(minMs: 8, maxMs: 8))) == [8_000])
    }

    @Test("long-tail: the body within [median/2, 3·median/2], the tail within max_factor of it, at its rate")
    func longTail() {
        let median: UInt64 = 20_000, factor: UInt64 = 8
        let values = Self.draw(.longTail(medianMs: 20, tailPerMillion: 100_000, maxFactor: factor))
        let bodyHigh = median / 2 + median
        #expect(values.allSatisfy { (median / 2...bodyHigh * factor).contains($0) })
        // Tail samples are at least twice a body sample, so anything above the body's top is tail;
        // a few tail samples land inside the body range (2 × a short body sample), hence ≥ 7%.
        let tail = values.filter { $0 > bodyHigh }.count
        #expect((Self.samples * 7 / 100...Self.samples * 11 / 100).contains(tail), "tail: \(tail) of \(Self.samples)")
        #expect(values.max()! > bodyHigh * (factor - 1), "the tail reaches towards max_factor")
        let sorted = values.sorted()
        let p50 = sorted[Self.samples / 2]
        #expect((median * 9 / 10...median * 12 / 10).contains(p50), "median \(p50)")
    }

    @Test("long-tail with no tail never exceeds the body")
    func longTailWithoutTail() {
        let values = Self.draw(.longTail(medianMs: 40, tailPerMillion: 0, maxFactor: 10))
        #expect(values.allSatisfy { (20_000...60_000).contains($0) })
    }

    @Test("the same seed draws the same latencies; another seed does not")
    func seeded() {
        let latency = LinkModel.Latency.uniform(minMs: 1, maxMs: 100)
        #expect(Self.draw(latency, jitterMs: 3, seed: 9) == Self.draw(latency, jitterMs: 3, seed: 9))
        #expect(Self.draw(latency, jitterMs: 3, seed: 9) != Self.draw(latency, jitterMs: 3, seed: 10))
    }
}
