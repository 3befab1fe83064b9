@testable import PRSMSim
import Testing

/// `ping-after-heal` fails when a live node does not answer after the network settled.
@Suite("Check ping-after-heal")
struct LivenessCheckTests {
    @Test("a silent node fails the check, which names it")
    func silentNodeFails() async throws {
        let result = try await simulate(smallTopology(["a", "b", "mute"], behaviours: ["mute": .silent]), seed: 1)
        let check = try #require(result.check("ping-after-heal"))
        #expect(!check.passed)
        // Nobody hears from mute and mute hears nothing back: 4 of the 6 ordered pairs.
        #expect(check.message.hasPrefix("4 of 6 pairs unanswered"), "\(check.message)")
        #expect(check.message.contains("a→mute"))
        #expect(check.message.contains("mute→a"))
        #expect(!check.message.contains("a→b"))
        #expect(result.check("no-deadlock")?.passed == true, "\(result.report)")
    }

    static func split(healAtMs: UInt64?) -> Topology {
        var faults: [(atMs: UInt64, kind: Fault.Kind)] = [(2_000, .partition(groups: [[0, 1], [2, 3]]))]
        if let healAtMs { faults.append((healAtMs, .heal)) }
        return smallTopology(["a", "b", "c", "d"], faults: faults)
    }

    @Test("a partition that is never healed fails the check for every cross pair")
    func neverHealedFails() async throws {
        let result = try await simulate(Self.split(healAtMs: nil), seed: 1)
        let check = try #require(result.check("ping-after-heal"))
        #expect(!check.passed)
        #expect(check.message.hasPrefix("8 of 12 pairs unanswered"), "\(check.message)")
        #expect(check.message.contains("a→c"))
        #expect(!check.message.contains("a→b"))
    }

    @Test("the same partition, healed, passes")
    func healedPasses() async throws {
        let result = try await simulate(Self.split(healAtMs: 4_000), seed: 1)
        #expect(result.check("ping-after-heal")?.passed == true, "\(result.report)")
        #expect(result.network["partitioned", default: 0] > 0)
        #expect(result.passed, "\(result.report)")
    }
}
