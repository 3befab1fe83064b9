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

    /// The checker forgets fingerprints after two generations of 2 × (tolerance + skew); a replay
    /// inside 2 × tolerance of the first acceptance is still caught across a generation change,
    /// and one after the fingerprint is gone is caught as outside the window.
    @Test("a replay is caught across the checker's generations, and after them by the window")
    func replayCaughtAcrossGenerations() throws {
        let sender = try SigningKey(seed: [UInt8](repeating: 7, count: 32)).publicKey
        func accept(_ checker: ReplayChecker, _ sequence: UInt64, stamped timestamp: UInt64, at now: UInt64,
                    skewMs: Int64 = 0) {
            checker.observe(.accepted(receiver: 0, sender: sender, sequence: sequence, timestamp: timestamp,
                                      receiverNowMs: UInt64(Int64(now) + skewMs), worldNowMs: now))
        }
        let checker = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 0, names: ["a"])
        accept(checker, 1, stamped: 1_900, at: 1_900)
        accept(checker, 2, stamped: 2_000, at: 2_000)  // the next generation starts: 1 moves to the older
        #expect(checker.firstViolation == nil)
        accept(checker, 1, stamped: 1_900, at: 2_800)
        #expect(checker.firstViolation?.contains("accepted sequence 1") == true, "\(checker.firstViolation ?? "none")")

        let later = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 0, names: ["a"])
        accept(later, 1, stamped: 0, at: 0)
        accept(later, 2, stamped: 2_000, at: 2_000)
        accept(later, 3, stamped: 4_000, at: 4_000)  // sequence 1's generation is gone
        accept(later, 1, stamped: 0, at: 4_100)
        #expect(later.firstViolation?.contains("outside") == true, "\(later.firstViolation ?? "none")")

        // A receiver whose clock was set back 1 s between two acceptances of one envelope sees
        // them 2 s apart on its clock (the window allows that), 3 s apart on the world's: a skew
        // bound of 500 ms keeps the fingerprint that long (without it, the generation at 4 s
        // would have dropped it).
        let skewed = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 500, names: ["a"])
        accept(skewed, 1, stamped: 3_000, at: 1_500, skewMs: 500)
        accept(skewed, 2, stamped: 2_500, at: 2_000, skewMs: 500)
        accept(skewed, 3, stamped: 3_500, at: 4_000, skewMs: -500)  // the next generation starts
        accept(skewed, 1, stamped: 3_000, at: 4_500, skewMs: -500)
        #expect(skewed.firstViolation?.contains("accepted sequence 1") == true, "\(skewed.firstViolation ?? "none")")
    }
}
