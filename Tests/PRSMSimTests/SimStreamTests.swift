import Foundation
import PRSMNode
import Testing
@testable import PRSMSim

/// Simulated TCP streams: ordered frames with latency, reset by partitions and crashes.
struct SimStreamTests {
    static func topology(faults: String) throws -> Topology {
        let json = """
            {"name": "streams", "nodes": [{"name": "a"}, {"name": "b"}],
             "link": {"latency": {"dist": "uniform", "min_ms": 5, "max_ms": 40}, "jitter_ms": 20},
             "workload": {"ping_interval_ms": 1000}, "duration_ms": 30000, "faults": [\(faults)]}
            """
        return try TopologyLoader.parse(Data(json.utf8))
    }

    static func run(_ topology: Topology, _ setUp: (Simulation) -> [StreamProbe]) async -> (SimulationResult, [StreamProbe]) {
        await withCheckedContinuation { continuation in
            let simulation = Simulation(topology: topology, options: .init(seed: 5))
            let probes = setUp(simulation)
            let thread = Thread { continuation.resume(returning: (simulation.run(), probes)) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    @Test func framesComeBackInOrderDespiteJitter() async throws {
        let sizes = [1, 10, 1_000, 100_000, 3, 4_000_000]
        let (result, probes) = await Self.run(try Self.topology(faults: "")) {
            [$0.probeStreams(server: "b", client: "a", atMs: 1_000, sizes: sizes, gapMs: 0)]
        }
        #expect(probes[0].echoed == sizes)
        #expect(probes[0].errors.isEmpty, "\(probes[0].errors)")
        #expect(result.passed, "\(result.checks.filter { !$0.passed })")
    }

    @Test func partitionResetsAnOpenStreamAndRefusesNewOnes() async throws {
        let faults = #"{"at_ms": 3000, "type": "partition", "groups": [["a"], ["b"]]}, {"at_ms": 20000, "type": "heal"}"#
        let (_, probes) = await Self.run(try Self.topology(faults: faults)) { simulation in
            [simulation.probeStreams(server: "b", client: "a", atMs: 1_000, sizes: Array(repeating: 10, count: 20), gapMs: 500),
             simulation.probeStreams(server: "b", client: "a", atMs: 5_000, sizes: [10], gapMs: 0),
             simulation.probeStreams(server: "b", client: "a", atMs: 21_000, sizes: [10, 20], gapMs: 0)]
        }
        let (long, during, after) = (probes[0], probes[1], probes[2])
        #expect(long.errors == ["reset"], "\(long.errors)")
        #expect(long.echoed.count >= 2 && long.echoed.count < 20)
        #expect(during.refused == 1)
        #expect(after.echoed == [10, 20])
        #expect(after.errors.isEmpty && after.refused == 0)
    }

    @Test func crashOfTheServerResetsTheStream() async throws {
        let faults = #"{"at_ms": 3000, "type": "crash", "node": "b"}, {"at_ms": 4000, "type": "restart", "node": "b"}"#
        let (_, probes) = await Self.run(try Self.topology(faults: faults)) {
            [$0.probeStreams(server: "b", client: "a", atMs: 1_000, sizes: Array(repeating: 10, count: 20), gapMs: 500)]
        }
        #expect(probes[0].errors == ["reset"], "\(probes[0].errors)")
        #expect(probes[0].echoed.count >= 2 && probes[0].echoed.count < 20)
    }
}
