import Foundation
@testable import PRSMSim
import Testing

/// What TopologyLoader builds from valid files: defaults, count expansion, faults.
@Suite("TopologyLoader reads topologies")
struct TopologyLoaderTests {
    static func parse(_ json: String) throws -> Topology { try TopologyLoader.parse(Data(json.utf8)) }

    @Test("count expands a node group into prefix1…prefixN with distinct keys")
    func countExpansion() throws {
        let topology = try Self.parse("""
            {"name": "t", "nodes": [
              {"name": "v", "count": 3, "roles": ["validator", "provider"], "stake": 7, "key_seed": "k"},
              {"name": "solo"},
              {"name": "c", "count": 1, "behaviour": "silent"}]}
            """)
        #expect(topology.nodes.map(\.name) == ["v1", "v2", "v3", "solo", "c1"])
        #expect(topology.nodes.map(\.keySeed) == ["k1", "k2", "k3", "solo", "c1"])
        #expect(topology.nodes.prefix(3).allSatisfy { $0.roles == [.validator, .provider] && $0.stake == 7 })
        #expect(Set(topology.nodes.map(\.key.publicKey)).count == 5)
        #expect(topology.nodes[3].roles == [.client] && topology.nodes[3].behaviour == nil)
        #expect(topology.nodes[4].behaviour == .silent)
        // Validators are the genesis validator set, weighted by stake.
        #expect(topology.genesis().validators.count == 3)
    }

    @Test("omitted fields take the documented defaults")
    func defaults() throws {
        let topology = try Self.parse(#"{"name": "m", "nodes": [{"name": "a"}]}"#)
        #expect(topology.genesisName == "simnet")
        #expect(topology.link == LinkModel(latency: .fixed(ms: 10), jitterMs: 0, lossPerMillion: 0,
                                           duplicatePerMillion: 0, bandwidthKbps: 0))
        #expect(topology.pingIntervalMs == 1_000)
        #expect(topology.gstMs == 0)
        #expect(topology.durationMs == 60_000)
        #expect(topology.pingBoundMs == 5_000)
        #expect(topology.maxPeers == 1_024)
        #expect(topology.faults.isEmpty)
        #expect(topology.nodes[0].keySeed == "a" && topology.nodes[0].stake == 0)
    }

    @Test("long-tail defaults, and max_factor below 2 is raised to 2")
    func longTail() throws {
        let defaults = try Self.parse(#"{"name": "t", "nodes": [{"name": "a"}], "link": {"latency": {"dist": "long-tail", "median_ms": 20}}}"#)
        #expect(defaults.link.latency == .longTail(medianMs: 20, tailPerMillion: 10_000, maxFactor: 10))
        let low = try Self.parse(#"{"name": "t", "nodes": [{"name": "a"}], "link": {"latency": {"dist": "long-tail", "median_ms": 20, "max_factor": 1}}}"#)
        #expect(low.link.latency == .longTail(medianMs: 20, tailPerMillion: 10_000, maxFactor: 2))
    }

    @Test("every fault type is read, with node names resolved to indices")
    func faults() throws {
        let topology = try Self.parse("""
            {"name": "t", "nodes": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "duration_ms": 80000, "faults": [
              {"at_ms": 1000, "type": "partition", "groups": [["a"], ["b", "c"]]},
              {"at_ms": 2000, "type": "partition", "from": ["c"], "to": ["a", "b"]},
              {"at_ms": 3000, "type": "heal"},
              {"at_ms": 4000, "type": "crash", "node": "b"},
              {"at_ms": 5000, "type": "restart", "node": "b"},
              {"at_ms": 6000, "type": "drop", "per_million": 10, "until_ms": 7000},
              {"at_ms": 6000, "type": "delay", "extra_ms": 300, "until_ms": 8000},
              {"at_ms": 7000, "type": "duplicate", "per_million": 20, "until_ms": 9000},
              {"at_ms": 9000, "type": "clock-skew", "node": "c", "skew_ms": -1500}]}
            """)
        #expect(topology.faults == [
            Fault(atMs: 1_000, kind: .partition(groups: [[0], [1, 2]])),
            Fault(atMs: 2_000, kind: .oneWay(from: [2], to: [0, 1])),
            Fault(atMs: 3_000, kind: .heal),
            Fault(atMs: 4_000, kind: .crash(node: 1)),
            Fault(atMs: 5_000, kind: .restart(node: 1)),
            Fault(atMs: 6_000, kind: .drop(perMillion: 10, untilMs: 7_000)),
            Fault(atMs: 6_000, kind: .delay(extraMs: 300, untilMs: 8_000)),
            Fault(atMs: 7_000, kind: .duplicate(perMillion: 20, untilMs: 9_000)),
            Fault(atMs: 9_000, kind: .clockSkew(node: 2, skewMs: -1_500)),
        ])
        #expect(topology.settledAtMs == 9_000)
    }

    @Test("the shipped topologies load", arguments: ["quickstart", "partition-heal", "churn-100"])
    func shipped(name: String) throws {
        let topology = try repositoryTopology(name)
        #expect(topology.name == name)
        #expect(topology.settledAtMs + topology.pingBoundMs + 1_000 < topology.durationMs)
    }
}
