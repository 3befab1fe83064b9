import PRSMNode
@testable import PRSMSim
import Testing

/// The chain on disk stays bounded: nodes snapshot the state, prune old blocks (by age, or at
/// once past the byte limit), and a validator that crashes after pruning restarts from its
/// snapshot — it cannot replay from height 1 any more, so agreeing state roots afterwards show
/// the snapshot restored the exact state.
@Suite("Block retention in the simulator")
struct RetentionSimTests {
    static func stored(_ store: SimStore) throws -> (count: Int, bytes: Int, lowest: UInt64?, snapshot: UInt64?) {
        let entries = try store.scan(.blocks)
        let snapshot = try store.get(.consensus, Array("snapshot".utf8)).map { try ConsensusSnapshot.decode($0).height }
        return (entries.count, entries.reduce(0) { $0 + $1.value.count },
                entries.first.map { $0.key.reduce(0) { $0 << 8 | UInt64($1) } }, snapshot)
    }

    @Test("pruned by age: at most keep + interval blocks on disk, and a crashed validator restarts from its snapshot",
          .timeLimit(.minutes(2)))
    func prunedByAge() async throws {
        var topology = ConsensusSimTests.topology(faults: [(9_000, .crash(node: 1)), (11_000, .restart(node: 1))],
                                                  durationMs: 22_000)
        topology.consensus?.retention.keepBlocks = 30
        topology.consensus?.retention.snapshotInterval = 20
        // Peers keep few blocks in memory either, so nobody can hand it the chain from height 1.
        topology.consensus?.retainedBlocks = 20
        let box = SimulationBox()
        let result = try await simulate(topology, seed: 4) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        let simulation = try #require(box.simulation)
        for node in simulation.nodes {
            let disk = try Self.stored(node.store)
            #expect(disk.count <= 30 + 20, "\(node.name) keeps \(disk.count) blocks")
            #expect((disk.lowest ?? 0) > 100, "\(node.name) pruned its old blocks (lowest \(String(describing: disk.lowest)))")
            #expect((disk.snapshot ?? 0) > 100)
        }
    }

    @Test("over the byte limit a node snapshots at once and keeps the stored blocks near the limit",
          .timeLimit(.minutes(2)))
    func prunedBySize() async throws {
        var topology = ConsensusSimTests.topology(durationMs: 12_000)
        topology.consensus?.retention.maxStoredBytes = 16_384
        let box = SimulationBox()
        let result = try await simulate(topology, seed: 6) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        for node in try #require(box.simulation).nodes {
            let disk = try Self.stored(node.store)
            // One step may add a few blocks past the limit before the next one prunes.
            #expect(disk.bytes <= 2 * 16_384, "\(node.name) stores \(disk.bytes) bytes of blocks")
            #expect((disk.snapshot ?? 0) > 0)
        }
    }
}
