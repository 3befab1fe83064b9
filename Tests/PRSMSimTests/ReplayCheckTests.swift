@testable import PRSMSim
import PRSMNode
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

    /// The checker forgets fingerprints after two generations of 3 × tolerance; a replay inside
    /// 2 × tolerance of the first acceptance is still caught across a generation change, and one
    /// after the fingerprint is gone is caught as outside the window.
    @Test("a replay is caught across the checker's generations, and after them by the window")
    func replayCaughtAcrossGenerations() throws {
        let sender = try SigningKey(seed: [UInt8](repeating: 7, count: 32)).publicKey
        func accept(_ checker: ReplayChecker, _ sequence: UInt64, stamped timestamp: UInt64, at now: UInt64) {
            checker.observe(.accepted(receiver: 0, sender: sender, sequence: sequence, timestamp: timestamp,
                                      receiverNowMs: now))
        }
        let checker = ReplayChecker(toleranceMs: 1_000, names: ["a"])
        accept(checker, 1, stamped: 2_900, at: 2_900)  // a generation starts
        accept(checker, 2, stamped: 3_000, at: 3_000)  // the next one starts: 1 moves to the older
        #expect(checker.firstViolation == nil)
        accept(checker, 1, stamped: 2_900, at: 3_800)
        #expect(checker.firstViolation?.contains("accepted sequence 1") == true, "\(checker.firstViolation ?? "none")")

        let later = ReplayChecker(toleranceMs: 1_000, names: ["a"])
        accept(later, 1, stamped: 0, at: 0)
        accept(later, 2, stamped: 3_000, at: 3_000)
        accept(later, 3, stamped: 6_000, at: 6_000)  // sequence 1's generation is gone
        accept(later, 1, stamped: 0, at: 6_100)
        #expect(later.firstViolation?.contains("outside") == true, "\(later.firstViolation ?? "none")")
    }
}
