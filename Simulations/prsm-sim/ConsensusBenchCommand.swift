import Foundation
import PRSMNode
import ArgumentParser
import PRSMSim

struct ConsensusBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus",
        abstract: "BFT throughput and latency in virtual time under the CPU cost model, every signature verified.")

    @Option(help: "Validator counts, comma separated.") var nodes = "4,16,64"
    @Option(name: .customLong("tx-rate"), help: "Offered transactions per second, all clients together.")
    var txRate: UInt64 = 4_000
    @Option(help: "How long clients submit, in simulated milliseconds (the measured window).")
    var duration: UInt64 = 10_000
    @Option(name: .customLong("link-ms"), help: "One-way link delay (fixed, no jitter).") var linkMs: UInt64 = 10
    @Option(name: .customLong("max-block"), help: "Transactions per block at most.") var maxBlock = 4_000
    @Option(help: "Simulation seed.") var seed: UInt64 = 1
    @Option(help: "CPU cost model file, or 'none' (the bound is then 0).") var costs = "Simulations/costs.json"
    @Option(help: "Where votes go: all (every validator assembles the QC), leader (the next leader only), or auto (all up to 32 validators).")
    var votes = "auto"
    @OptionGroup var output: ReportOutput

    func run() throws {
        let counts = nodes.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...1_024).contains($0) }) else {
            throw ValidationError("--nodes takes validator counts between 1 and 1024, e.g. 4,16,64")
        }
        guard txRate <= 1_000_000, (1_000...3_600_000).contains(duration), (1...10_000).contains(linkMs),
              (1...20_000).contains(maxBlock) else {
            throw ValidationError("--tx-rate ≤ 1000000, --duration 1000…3600000 ms, --link-ms 1…10000, --max-block 1…20000")
        }
        var bench = ConsensusBench()
        bench.nodeCounts = counts
        bench.txRate = txRate
        bench.durationMs = duration
        bench.linkMs = linkMs
        bench.maxBlockTransactions = maxBlock
        bench.seed = seed
        switch votes {
        case "all": bench.voteBroadcastLimit = ConsensusLimits.maxValidators
        case "leader": bench.voteBroadcastLimit = 0
        case "auto": break
        default: throw ValidationError("--votes takes all, leader or auto")
        }
        if costs != "none" {
            do { bench.costs = try CostModel.load(path: costs) } catch { throw ValidationError("cannot read \(costs)") }
        }
        try output.write(bench.run())
    }
}

struct ConsensusLoopbackBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus-loopback",
        abstract: "The four devnet validators as real prsm-node processes on loopback, loaded over TCP; wall clock.")

    @Option(help: "Validators (the devnet has 4).") var nodes = 4
    @Option(name: .customLong("tx-rate"), help: "Offered transactions per second.") var txRate = 3_000
    @Option(help: "Seconds of load.") var duration = 10
    @Option(name: .customLong("node-binary"), help: "prsm-node to launch (default: next to this prsm-sim).")
    var nodeBinary: String?
    @OptionGroup var output: ReportOutput

    func run() throws {
        guard nodes == Devnet.validatorCount else { throw ValidationError("--nodes: the devnet has exactly 4 validators") }
        guard (1...100_000).contains(txRate), (1...600).contains(duration) else {
            throw ValidationError("--tx-rate 1…100000, --duration 1…600 seconds")
        }
        let binary = nodeBinary ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("prsm-node").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no prsm-node at \(binary): build it (swift build -c release --product prsm-node) or pass --node-binary")
        }
        var bench = ConsensusLoopbackBench(nodeBinary: binary)
        bench.txRate = txRate
        bench.durationSeconds = duration
        let configured = bench
        try output.write(try runBlocking("consensus-loopback") { try await configured.run() })
    }
}
