import Foundation
@testable import PRSMSim
import Testing

/// Determinism across processes, through the command line users run: two `prsm-sim run`s of one
/// topology and seed record the same trace hash; `prsm-sim replay` reproduces it, and refuses a
/// run directory recorded by another build.
@Suite("Determinism across processes: prsm-sim run / replay")
struct ProcessReplayTests {
    @Test("two processes, one seed: the same trace hash; replay is identical; another build is refused")
    func runTwiceAndReplay() async throws {
        let scratch = try makeTemporaryDirectory("replay")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let first = scratch.appendingPathComponent("run1").path
        let second = scratch.appendingPathComponent("run2").path

        for directory in [first, second] {
            let run = try await runPrsmSim(["run", "topologies/partition-heal.json", "--seed", "7", "--out", directory])
            #expect(run.status == 0, "prsm-sim run failed:\n\(run.output)")
        }
        let one = try RunArtifacts.readSummary(from: first)
        let two = try RunArtifacts.readSummary(from: second)
        #expect(one.trace_hash == two.trace_hash)
        #expect(one.seed == 7 && two.seed == 7)
        #expect(one.build == two.build)
        #expect(one.checks.values.allSatisfy { $0.result == "pass" }, "\(one.checks)")
        #expect(Set(allCheckNames).isSubset(of: one.checks.keys), "\(one.checks)")

        // This test process and the tool share the simulator code: with the cost model the tool
        // recorded, the in-process run must agree.
        let inProcess = try await simulate(try repositoryTopology("partition-heal"), seed: 7, costs: one.costs)
        #expect(inProcess.traceHash == one.trace_hash)

        let replay = try await runPrsmSim(["replay", first])
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("replay identical"), "\(replay.output)")
        #expect(replay.output.contains(one.trace_hash))

        // Tamper with the recorded build: replay must refuse rather than compare traces.
        let summaryURL = URL(fileURLWithPath: first + "/summary.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: summaryURL)) as? [String: Any])
        object["build"] = String(repeating: "0", count: 64)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: summaryURL)
        let refused = try await runPrsmSim(["replay", first])
        #expect(refused.status != 0, "\(refused.output)")
        #expect(refused.output.contains("another build"), "\(refused.output)")
        #expect(!refused.output.contains("replay identical"))
    }
}
