@testable import PRSMSim
import Testing

/// Same topology + seed (+ schedule) ⇒ the same trace hash; anything else ⇒ a different one.
@Suite("Determinism in one process")
struct DeterminismTests {
    @Test("the same topology and seed twice give identical traces")
    func sameSeedSameTrace() async throws {
        let topology = try repositoryTopology("partition-heal")
        let first = try await simulate(topology, seed: 11)
        let second = try await simulate(topology, seed: 11)
        #expect(first.traceHash == second.traceHash)
        #expect(first.traceEvents == second.traceEvents)
        #expect(first.jobsRun == second.jobsRun)
        #expect(first.network == second.network)
        #expect(first.checks == second.checks)
        #expect(first.traceHash.count == 64)
    }

    @Test("different seeds give different traces")
    func differentSeedsDifferentTraces() async throws {
        let topology = try repositoryTopology("quickstart")
        var hashes: Set<String> = []
        for seed: UInt64 in [1, 2, 3] {
            hashes.insert(try await simulate(topology, seed: seed).traceHash)
        }
        #expect(hashes.count == 3)
    }

    @Test("keeping the trace lines (as replay does) does not change the hash")
    func keptTraceSameHash() async throws {
        let topology = try repositoryTopology("quickstart")
        let streamed = try await simulate(topology, seed: 5)
        let kept = try await simulate(topology, seed: 5, keepTrace: true)
        #expect(streamed.traceHash == kept.traceHash)
        #expect(streamed.traceLines.isEmpty)
        #expect(UInt64(kept.traceLines.count) == kept.traceEvents)
    }

    @Test("a seeded random job order is reproducible, differs from FIFO, and passes")
    func randomSchedule() async throws {
        let topology = try repositoryTopology("partition-heal")
        let fifo = try await simulate(topology, seed: 3)
        let random = try await simulate(topology, seed: 3, randomSchedule: true)
        let again = try await simulate(topology, seed: 3, randomSchedule: true)
        let otherSeed = try await simulate(topology, seed: 4, randomSchedule: true)
        #expect(random.traceHash == again.traceHash)
        #expect(random.jobsRun == again.jobsRun)
        #expect(random.traceHash != fifo.traceHash)
        #expect(random.traceHash != otherSeed.traceHash)
        #expect(random.passed, "\(random.report)")
    }
}
