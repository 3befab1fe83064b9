import ArgumentParser
import Dispatch
import Foundation
import PRSMSim
import Synchronization

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a topology in the simulator; exit 0 only when every check passed.")

    @Argument(help: "Topology JSON file (see topologies/ and docs/topology.schema.json).")
    var topology: String

    @Option(help: "Seed of the run.") var seed: UInt64?
    @Option(help: "Run every seed of a range, e.g. 1..100.") var seeds: String?
    @Option(help: "Output directory.") var out: String = "out/sim"
    @Flag(help: "Write trace.jsonl (always written for a failed run).") var trace = false
    @Option(help: "Job order: fifo, or random (seeded choice among runnable jobs).") var schedule = "fifo"
    @Option(help: "CPU cost model (from `prsm-sim calibrate`), or 'none'.") var costs = "Simulations/costs.json"
    @Option(help: "Seeds run at once with --seeds (each run stays deterministic; default: the CPU count).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard seed == nil || seeds == nil else { throw ValidationError("give --seed or --seeds, not both") }
        guard ["fifo", "random"].contains(schedule) else { throw ValidationError("--schedule must be fifo or random") }
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 256") }
        if let seeds { _ = try parseRange(seeds) }
    }

    func run() throws {
        _ = try costModel()
        let bytes = try topologyBytes(topology)
        let parsed: Topology
        do { parsed = try TopologyLoader.parse(bytes) } catch {
            throw ValidationError("\(topology): \(error)")
        }
        if let seeds {
            try runMany(parsed, bytes, range: try parseRange(seeds))
            return
        }
        let result = runOne(parsed, seed: seed ?? 1, keepTrace: trace)
        try write(result, parsed, bytes, to: out)
        printResult(result, directory: out)
        if !result.passed { throw ExitCode(1) }
    }

    func costModel() throws -> CostModel {
        if costs == "none" { return .free }
        do { return try CostModel.load(path: costs) } catch {
            throw ValidationError("cannot read the cost model \(costs) (\(error.localizedDescription)); run from the "
                + "repository root, pass --costs FILE, or --costs none to run without a CPU model")
        }
    }

    func runOne(_ topology: Topology, seed: UInt64, keepTrace: Bool) -> SimulationResult {
        var options = Simulation.Options(seed: seed)
        options.costs = (try? costModel()) ?? .free
        options.randomSchedule = schedule == "random"
        options.keepTrace = keepTrace
        return Simulation(topology: topology, options: options).run()
    }

    /// A failed run is run again with the trace kept, so the failure can be read.
    func write(_ result: SimulationResult, _ topology: Topology, _ bytes: Data, to directory: String) throws {
        var result = result
        if !result.passed && result.traceLines.isEmpty {
            result = runOne(topology, seed: result.seed, keepTrace: true)
        }
        try RunArtifacts.write(result, schedule: schedule, topologyBytes: bytes, to: directory)
    }

    /// Runs the seeds on `jobs` threads (each simulation has its own world and executor, so runs
    /// are independent and their traces do not depend on `jobs`); the summary lists seeds in order.
    func runMany(_ topology: Topology, _ bytes: Data, range: ClosedRange<UInt64>) throws {
        let seeds = Array(range)
        let progress = Mutex(SeedProgress(total: seeds.count))
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: min(jobs, seeds.count)) { _ in
            while let seed = progress.withLock({ $0.nextSeed(from: seeds) }) {
                let result = runOne(topology, seed: seed, keepTrace: false)
                let directory = "\(out)/seed-\(seed)"
                let outcome: SeedOutcome
                do {
                    try write(result, topology, bytes, to: directory)
                    outcome = result.passed ? .passed : .failed(result.checks.filter { !$0.passed }.map(\.name))
                } catch {
                    outcome = .failed(["cannot write \(directory): \(error)"])
                }
                let line = progress.withLock { $0.record(seed, outcome) }
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        FileHandle.standardError.write(Data("\n".utf8))
        let finished = progress.withLock { $0 }
        let failed: [[String: String]] = finished.failures.sorted { $0.key < $1.key }.map { seed, checks in
            ["seed": "\(seed)", "replay": "prsm-sim replay \(out)/seed-\(seed)", "failed_checks": checks.joined(separator: ",")]
        }
        let passed = finished.passed
        let summary: [String: Any] = [
            "topology": topology.name, "seeds": "\(range.lowerBound)..\(range.upperBound)", "jobs": jobs,
            "passed": passed, "failed": failed, "wall_seconds": Date().timeIntervalSince(start),
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(out)/summary.json"))
        print("seeds   passed  failed")
        print("\(range.count)\t\(passed)\t\(failed.count)")
        for failure in failed { print("seed \(failure["seed"]!) failed \(failure["failed_checks"]!): \(failure["replay"]!)") }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    func parseRange(_ text: String) throws -> ClosedRange<UInt64> {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high else {
            throw ValidationError("--seeds must look like A..B with A ≤ B")
        }
        return low...high
    }
}

func topologyBytes(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return data
}

func printResult(_ result: SimulationResult, directory: String) {
    for check in result.checks {
        print("\(check.passed ? "pass" : "FAIL")  \(check.name): \(check.message)")
    }
    if let workload = result.workload {
        let text = workload.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%g", $0.value))" }
        print("workload  \(text.joined(separator: " "))")
    }
    print(String(format: "seed %llu  trace %@  %.0f simulated s in %.2f wall s (%.0fx)  -> %@/summary.json",
                 result.seed, String(result.traceHash.prefix(16)), result.simulatedSeconds, result.wallSeconds,
                 result.simulatedSeconds / max(result.wallSeconds, 1e-9), directory))
}
