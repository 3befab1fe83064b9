@testable import PRSMSim
import Testing

/// The topologies shipped in topologies/ pass every check with fixed seeds, with the CPU cost
/// model `prsm-sim run` uses by default, and their faults really happen (a scenario whose
/// partition never cut a datagram would pass vacuously).
@Suite("Scenarios: topologies/*.json")
struct ScenarioTests {
    @Test("quickstart passes every check", arguments: [1, 2, 3] as [UInt64])
    func quickstart(seed: UInt64) async throws {
        let result = try await simulate(try repositoryTopology("quickstart"), seed: seed, costs: try committedCosts())
        #expect(Set(allCheckNames).isSubset(of: result.checks.map(\.name)), "\(result.report)")
        #expect(result.passed, "\(result.report)")
        #expect(result.network["delivered", default: 0] > 0)
        #expect(result.simulatedSeconds == 60)
    }

    @Test("partition-heal passes every check, and its faults cut and duplicate traffic",
          arguments: [1, 7, 42] as [UInt64])
    func partitionHeal(seed: UInt64) async throws {
        let result = try await simulate(try repositoryTopology("partition-heal"), seed: seed, costs: try committedCosts())
        #expect(Set(allCheckNames).isSubset(of: result.checks.map(\.name)), "\(result.report)")
        #expect(result.passed, "\(result.report)")
        #expect(result.network["partitioned", default: 0] > 0, "the 2|2 partition cut nothing")
        #expect(result.network["duplicated", default: 0] > 0)
        #expect(result.network["lost", default: 0] > 0)
    }

    /// The largest topology: ~9 s of wall time in a debug build, so one seed only.
    @Test("churn-100 passes every check with one seed")
    func churn100() async throws {
        let topology = try repositoryTopology("churn-100")
        #expect(topology.nodes.count == 100)
        let result = try await simulate(topology, seed: 1, costs: try committedCosts(), wallLimit: .seconds(240))
        #expect(Set(allCheckNames).isSubset(of: result.checks.map(\.name)), "\(result.report)")
        #expect(result.passed, "\(result.report)")
        #expect(result.network["partitioned", default: 0] > 0, "the one-way partition cut nothing")
        #expect(result.check("ping-after-heal")?.message.hasPrefix("\(99 * 98) pairs") == true,
                "99 live nodes in the liveness round (c50 stays down; c1, c2 restarted): \(result.report)")
    }
}
