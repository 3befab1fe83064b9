@testable import PRSMSim
import Testing

/// `no-replay-accepted` fails when a node accepts duplicated envelopes, and only then.
@Suite("Check no-replay-accepted")
struct ReplayCheckTests {
    /// Every second datagram is delivered twice.
    static var duplicatingLink: LinkModel {
        var link = LinkModel()
        link.latency = .uniform(minMs: 5, maxMs: 30)
        link.duplicatePerMillion = 500_000
        return link
    }

    @Test("honest nodes drop every duplicate")
    func honestNodesPass() async throws {
        let result = try await simulate(smallTopology(["a", "b", "c"], link: Self.duplicatingLink), seed: 1)
        #expect(result.network["duplicated", default: 0] > 20)
        #expect(result.check("no-replay-accepted")?.passed == true, "\(result.report)")
        #expect(result.passed, "\(result.report)")
    }

    @Test("a node with skip-replay-check accepts duplicates and the check names it")
    func skipReplayCheckFails() async throws {
        let topology = smallTopology(["a", "b", "r"], behaviours: ["r": .skipReplayCheck], link: Self.duplicatingLink)
        let result = try await simulate(topology, seed: 1)
        let check = try #require(result.check("no-replay-accepted"))
        #expect(!check.passed)
        #expect(check.message.contains("r accepted sequence"), "\(check.message)")
        #expect(check.message.contains("twice"))
        #expect(!result.passed)
    }
}
