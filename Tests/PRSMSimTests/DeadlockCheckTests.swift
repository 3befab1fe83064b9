@testable import PRSMSim
import Testing

/// `no-deadlock` fails, naming the task, when a task stays suspended with nothing left to wake
/// it, and when the job budget runs out; the run still ends.
@Suite("Check no-deadlock")
struct DeadlockCheckTests {
    @Test("every task finishes in a normal run")
    func normalRunPasses() async throws {
        let result = try await simulate(smallTopology(["a", "b"]), seed: 1)
        let check = try #require(result.check("no-deadlock"))
        #expect(check.passed)
        #expect(check.message.hasPrefix("all "), "\(check.message)")
    }

    @Test("a task waiting on a wake-up that never comes is reported by name, and the run ends")
    func strandedTaskIsNamed() async throws {
        let result = try await simulate(smallTopology(["a", "b"]), seed: 1, wallLimit: .seconds(60)) { simulation in
            simulation.strandInboxAtShutdown(of: "b")
        }
        let check = try #require(result.check("no-deadlock"))
        #expect(!check.passed)
        #expect(check.message.contains("suspended with nothing to wake them"), "\(check.message)")
        #expect(check.message.contains("b#1.run"), "\(check.message)")
        #expect(!check.message.contains("a#1"), "\(check.message)")
        // Nothing else is wrong with this run.
        #expect(result.checks.filter { !$0.passed }.map(\.name) == ["no-deadlock"], "\(result.report)")
    }

    @Test("an exhausted job budget fails the check")
    func jobBudgetExhausted() async throws {
        let result = try await simulate(smallTopology(["a", "b"]), seed: 1, jobBudget: 500)
        let check = try #require(result.check("no-deadlock"))
        #expect(!check.passed)
        #expect(check.message == "job budget of 500 exhausted")
        #expect(result.jobsRun == 500)
    }
}
