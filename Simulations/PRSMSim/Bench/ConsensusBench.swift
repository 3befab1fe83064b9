import Foundation
import PRSMNode

/// `prsm-sim bench consensus`: n validators on jitter-free links commit Ed25519-signed
/// transactions from clients, every signature verified, in virtual time under the CPU cost
/// model. Reports throughput against the model's bound, latencies and bytes per transaction
/// (definitions in docs/bench.md).
public struct ConsensusBench: Sendable {
    public var nodeCounts = [4, 16, 64]
    /// Offered load, transactions per second (all clients together).
    public var txRate: UInt64 = 4_000
    /// How long clients submit; throughput is measured over this window.
    public var durationMs: UInt64 = 10_000
    /// One-way link delay (fixed: no jitter, no loss).
    public var linkMs: UInt64 = 10
    public var payloadBytes = 32
    public var clients = 512
    public var maxBlockTransactions = 4_000
    public var seed: UInt64 = 1
    /// Votes to every validator up to this many validators, else to the next leader only.
    public var voteBroadcastLimit = ConsensusCore.Config().voteBroadcastLimit
    public var costs = CostModel.free

    public init() {}

    static let warmupMs: UInt64 = 2_000
    static let drainMs: UInt64 = 5_000

    public func run() -> BenchReport {
        var rows: [JSONValue] = []
        for count in nodeCounts {
            let topology = makeTopology(count)
            var options = Simulation.Options(seed: seed)
            options.livenessRound = false
            options.costs = costs
            options.sampleEveryMs = 1_000
            options.jobBudget = .max
            let simulation = Simulation(topology: topology, options: options)
            let result = simulation.run()
            rows.append(row(count, simulation, result))
        }
        return BenchReport(bench: "consensus", params: [
            "nodes": .array(nodeCounts.map { .int($0) }), "tx_rate": .int(Int(txRate)),
            "duration_ms": .int(Int(durationMs)), "link_ms": .int(Int(linkMs)), "payload_bytes": .int(payloadBytes),
            "vote_broadcast_limit": .int(voteBroadcastLimit),
            "clients": .int(clients), "max_block_transactions": .int(maxBlockTransactions), "seed": .int(Int(seed)),
            "verify_ns": .int(Int(costs.verify_ns)), "sign_ns": .int(Int(costs.sign_ns)),
            "costs": .string(costs.calibrated_on ?? "custom"),
        ], results: ["runs": .array(rows)])
    }

    func makeTopology(_ count: Int) -> Topology {
        var topology = Topology(name: "consensus-bench-\(count)", nodes: (1...count).map {
            NodeSpec(name: "v\($0)", roles: [.validator], stake: 100, behaviour: nil, keySeed: "consensus-bench-v\($0)")
        })
        topology.link = LinkModel(latency: .fixed(ms: linkMs))
        topology.pingIntervalMs = 0
        topology.pingAllPairs = false
        var consensus = ConsensusWorkload()
        consensus.voteBroadcastLimit = voteBroadcastLimit
        consensus.txRate = txRate
        consensus.clients = clients
        consensus.payloadBytes = payloadBytes
        consensus.txStartMs = Self.warmupMs
        consensus.txEndMs = Self.warmupMs + durationMs
        consensus.maxBlockTransactions = maxBlockTransactions
        topology.consensus = consensus
        topology.durationMs = Self.warmupMs + durationMs + Self.drainMs
        return topology
    }

    func row(_ count: Int, _ simulation: Simulation, _ result: SimulationResult) -> JSONValue {
        let stats = simulation.consensusStats
        let windowStart = Self.warmupMs, windowEnd = Self.warmupMs + durationMs
        let inWindow = stats.fullCommits.filter { $0.atMs > windowStart && $0.atMs <= windowEnd }
            .reduce(0) { $0 + $1.transactions }
        let committedPerSecond = Double(inWindow) * 1_000 / Double(durationMs)
        let committed = max(1, stats.committedTransactions)
        // Verifications every node made, per committed transaction (each transaction's own
        // signature is checked once per node; envelopes, votes and certificates add to it).
        let verifiesPerTxPerNode = Double(simulation.verifications) / Double(committed) / Double(count)
        let verifyRate = costs.verify_ns == 0 ? 0 : 1e9 / Double(costs.verify_ns)
        let bound = verifiesPerTxPerNode == 0 ? 0 : verifyRate / verifiesPerTxPerNode
        func percentiles(_ values: [UInt64]) -> JSONValue {
            .object(["p50": .double(ConsensusStats.percentile(values, 50)), "p99": .double(ConsensusStats.percentile(values, 99))])
        }
        return .object([
            "nodes": .int(count),
            "submitted": .int(stats.submitted), "refused": .int(stats.refused),
            "committed_transactions": .int(stats.committedTransactions), "committed_blocks": .int(stats.committedBlocks),
            "committed_tx_per_s": .double(committedPerSecond),
            "bound_tx_per_s": .double(bound),
            "throughput_of_bound": .double(bound == 0 ? 0 : committedPerSecond / bound),
            "verifications_per_tx_per_node": .double(verifiesPerTxPerNode),
            "commit_latency_ms": percentiles(stats.commitLatenciesMs),
            "commit_latency_one_way_delays_p50": .double(ConsensusStats.percentile(stats.commitLatenciesMs, 50) / Double(linkMs)),
            "submit_to_commit_ms": percentiles(stats.submitToCommitMs),
            "bytes_per_tx": .double(Double(result.network["bytes"] ?? 0) / Double(committed)),
            "simulated_seconds": .double(result.simulatedSeconds),
            "wall_seconds": .double(result.wallSeconds),
            "checks_passed": .string(result.passed ? "all" : result.checks.filter { !$0.passed }.map(\.name).joined(separator: ",")),
        ])
    }
}
