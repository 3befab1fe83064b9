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

    /// The checker forgets a fingerprint once it can no longer matter (2 × (tolerance + skew)
    /// after its acceptance, by the world's clock); a replay before then is caught across its
    /// generations, and one after it by the window.
    @Test("a replay is caught across the checker's generations, and after them by the window")
    func replayCaughtAcrossGenerations() throws {
        let sender = try SigningKey(seed: [UInt8](repeating: 7, count: 32)).publicKey
        var busy: UInt64 = 1_000
        func accept(_ checker: ReplayChecker, _ sequence: UInt64, stamped timestamp: UInt64, at now: UInt64,
                    skewMs: Int64 = 0) {
            checker.observe(.accepted(receiver: 0, sender: sender, sequence: sequence, timestamp: timestamp,
                                      receiverNowMs: UInt64(Int64(now) + skewMs), worldNowMs: now))
        }
        /// Other envelopes every 100 ms of world time, as a busy node accepts them: generations
        /// turn over on time.
        func traffic(_ checker: ReplayChecker, from: UInt64, to: UInt64, skewMs: Int64 = 0) {
            for now in stride(from: from, to: to, by: 100) {
                busy += 1
                accept(checker, busy, stamped: UInt64(Int64(now) + skewMs), at: now, skewMs: skewMs)
            }
        }
        let checker = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 0, names: ["a"])
        accept(checker, 1, stamped: 1_000, at: 1_000)
        traffic(checker, from: 1_100, to: 2_900)
        #expect(checker.firstViolation == nil)
        accept(checker, 1, stamped: 1_000, at: 2_000 + 900)  // still inside its window: caught
        #expect(checker.firstViolation?.contains("accepted sequence 1") == true, "\(checker.firstViolation ?? "none")")

        let later = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 0, names: ["a"])
        accept(later, 1, stamped: 0, at: 0)
        traffic(later, from: 100, to: 3_000)  // sequence 1's fingerprint is gone
        accept(later, 1, stamped: 0, at: 3_000)
        #expect(later.firstViolation?.contains("outside") == true, "\(later.firstViolation ?? "none")")

        // A receiver whose clock was set back 1 s between two acceptances of one envelope sees
        // them 2 s apart on its clock (the window allows that), 3 s apart on the world's: a skew
        // bound of 500 ms keeps the fingerprint that long (without it, it would be gone by then).
        let skewed = ReplayChecker(toleranceMs: 1_000, maxSkewMs: 500, names: ["a"])
        accept(skewed, 1, stamped: 3_000, at: 1_500, skewMs: 500)
        traffic(skewed, from: 1_600, to: 3_000, skewMs: 500)
        traffic(skewed, from: 3_000, to: 4_500, skewMs: -500)
        #expect(skewed.firstViolation == nil)
        accept(skewed, 1, stamped: 3_000, at: 4_500, skewMs: -500)
        #expect(skewed.firstViolation?.contains("accepted sequence 1") == true, "\(skewed.firstViolation ?? "none")")
    }
}
