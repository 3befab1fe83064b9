import Foundation
import PRSMNode

/// `prsm-sim bench dht`: Kademlia in the simulator with routing tables built by real joins
/// (every node joins through one seed, spread over time; nothing is pre-filled), then FIND_NODE
/// lookups, puts and gets from random joined nodes, judged against the simulator's global view.
public struct DHTBench: Sendable {
    public var nodeCounts: [Int] = [1_000]
    public var k = 20
    public var lookups = 300
    public var puts = 100
    public var seed: UInt64 = 1
    /// Joins are spread over nodes × this (so the seed is not asked by everyone at once).
    public var joinSpacingMs: UInt64 = 20

    public init() {}

    public func run() -> BenchReport {
        var rows: [JSONValue] = []
        for count in nodeCounts {
            let rssBefore = SimScaleBench.residentBytes()
            let topology = makeTopology(count)
            var options = Simulation.Options(seed: seed)
            options.livenessRound = false
            options.sampleEveryMs = 60_000
            let simulation = Simulation(topology: topology, options: options)
            let result = simulation.run()
            let peak = SimScaleBench.peakResidentBytes()
            rows.append(row(count, simulation.dhtStats, result, rssBytes: max(0, peak - rssBefore), simulation: simulation))
        }
        return BenchReport(bench: "dht", params: [
            "nodes": .array(nodeCounts.map { .int($0) }), "k": .int(k), "lookups": .int(lookups),
            "puts": .int(puts), "seed": .int(Int(seed)), "join_spacing_ms": .int(Int(joinSpacingMs)),
            "link": .string("uniform 10-50 ms, no loss"),
        ], results: ["runs": .array(rows)])
    }

    func makeTopology(_ count: Int) -> Topology {
        var topology = Topology(name: "dht-bench-\(count)", nodes: (0..<count).map {
            NodeSpec(name: "n\($0)", roles: [.client], stake: 0, behaviour: nil, keySeed: "dht-bench-\($0)")
        })
        topology.link = LinkModel(latency: .uniform(minMs: 10, maxMs: 50))
        topology.pingIntervalMs = 0
        let spread = UInt64(count) * joinSpacingMs
        var dht = DHTWorkload(bootstrap: [0])
        dht.k = k
        dht.startSpreadMs = spread
        dht.opsStartMs = spread + 60_000
        dht.opIntervalMs = 50
        dht.puts = puts
        dht.getsPerPut = 1
        dht.findNodes = lookups
        topology.dht = dht
        topology.durationMs = dht.opsEndMs + 30_000
        return topology
    }

    /// Each node table's largest sampled size and its mean over samples (all nodes, every minute).
    func tableSizes(_ simulation: Simulation) -> JSONValue {
        guard let bounds = simulation.checkers.lazy.compactMap({ $0 as? BoundsChecker }).first else { return .object([:]) }
        return .object(bounds.sizeSummary.mapValues { .object(["largest": .int($0.largest), "mean": .double($0.mean)]) })
    }

    func row(_ count: Int, _ stats: DHTStats, _ result: SimulationResult, rssBytes: Int, simulation: Simulation) -> JSONValue {
        let lookups = stats.lookups
        let hops = lookups.map(\.hops).sorted()
        func percentile(_ p: Int) -> Int { hops.isEmpty ? 0 : hops[min(hops.count - 1, hops.count * p / 100)] }
        let succeeded = lookups.filter(\.succeeded).count
        let finds = stats.samples(of: .findNode)
        let gets = stats.samples(of: .get)
        return .object([
            "nodes": .int(count),
            "join_success_rate": .double(Double(stats.joined.count) / Double(count)),
            "hops": .object(["median": .int(percentile(50)), "p90": .int(percentile(90)), "max": .int(hops.last ?? 0)]),
            "success_rate": .double(lookups.isEmpty ? 0 : Double(succeeded) / Double(lookups.count)),
            "find_node_success_rate": .double(finds.isEmpty ? 0 : Double(finds.filter(\.succeeded).count) / Double(finds.count)),
            "get_success_rate": .double(gets.isEmpty ? 0 : Double(gets.filter(\.succeeded).count) / Double(gets.count)),
            "lookups": .int(lookups.count),
            "rpcs_per_lookup": .double(lookups.isEmpty ? 0 : Double(lookups.map(\.requests).reduce(0, +)) / Double(lookups.count)),
            "puts_confirmed": .int(stats.stored.count),
            "rss_bytes_per_node": .int(rssBytes / count),
            "simulated_seconds": .double(result.simulatedSeconds),
            "wall_seconds": .double(result.wallSeconds),
            "table_sizes": tableSizes(simulation),
            "checks_passed": .string(result.passed ? "all" : result.checks.filter { !$0.passed }.map(\.name).joined(separator: ",")),
        ])
    }
}
