import Foundation
import PRSMNode
import Testing
@testable import PRSMSim

/// The restart checker: a crashed node must come back with exactly what it had synced.
struct PersistenceCheckTests {
    static func topology(behaviour: String?) throws -> Topology {
        let extra = behaviour.map { ", \"behaviour\": \"\($0)\"" } ?? ""
        let json = """
            {"name": "restart", "nodes": [{"name": "a"}, {"name": "b"}, {"name": "c"\(extra)}],
             "link": {"latency": {"dist": "fixed", "ms": 5}},
             "workload": {"ping_interval_ms": 500}, "duration_ms": 40000,
             "faults": [{"at_ms": 25000, "type": "crash", "node": "c"}, {"at_ms": 27000, "type": "restart", "node": "c"}]}
            """
        return try TopologyLoader.parse(Data(json.utf8))
    }

    static func run(_ topology: Topology) async -> SimulationResult {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Simulation(topology: topology, options: .init(seed: 3)).run()) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    @Test func restartedNodeRestoresItsSyncedAddressBook() async throws {
        let result = await Self.run(try Self.topology(behaviour: nil))
        let check = result.checks.first { $0.name == "restart-restores-synced-state" }
        #expect(check?.passed == true, "\(check?.message ?? "missing")")
        #expect(check?.message.contains("1 restarts restored 2 synced peers") == true, "\(check?.message ?? "")")
        #expect(result.passed)
    }

    @Test func amnesiacNodeFailsTheRestartCheck() async throws {
        let result = await Self.run(try Self.topology(behaviour: "amnesiac"))
        let check = result.checks.first { $0.name == "restart-restores-synced-state" }
        #expect(check?.passed == false)
        #expect(check?.message.contains("c restarted with 0 peers; it had synced 2") == true, "\(check?.message ?? "")")
    }
}
