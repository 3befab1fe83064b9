import ArgumentParser
import Foundation
import PRSMSim

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that write one JSON object (fields in docs/bench.md). Run release builds.",
        subcommands: [CryptoBenchCommand.self, SimBenchCommand.self, DHTBenchCommand.self,
                      DHTLoopbackBenchCommand.self, ConsensusBenchCommand.self,
                      ConsensusLoopbackBenchCommand.self])
}

/// Where a report goes: the --json file, and always a copy on standard output.
struct ReportOutput: ParsableArguments {
    @Option(help: "Write the JSON report to this file.")
    var json: String?

    func write(_ report: BenchReport) throws {
        let data = report.json()
        if let json {
            do { try data.write(to: URL(fileURLWithPath: json)) } catch {
                throw ValidationError("cannot write \(json): \(error.localizedDescription)")
            }
        }
        print(String(decoding: data, as: UTF8.self))
    }
}

struct CryptoBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto", abstract: "Sign, verify, BLAKE2b and envelope costs against raw libsodium.")

    @Option(help: "Rounds (the median is reported).") var rounds = 7
    @Option(help: "Operations per measurement per round.") var batch = 2_000
    @OptionGroup var output: ReportOutput

    func run() throws {
        guard rounds >= 5, batch > 0 else { throw ValidationError("--rounds must be ≥ 5 and --batch > 0") }
        var bench = CryptoBench()
        bench.rounds = rounds
        bench.batch = batch
        try output.write(bench.run())
    }
}

struct SimBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim", abstract: "Simulator speed and memory with many nodes pinging each other.")

    @Option(help: "Node counts, comma separated.") var nodes = "1000"
    @Option(name: .customLong("duration-ms"), help: "Simulated time per run.") var durationMs: UInt64 = 600_000
    @Option(name: .customLong("ping-interval-ms"), help: "Each node pings a random peer this often.")
    var pingIntervalMs: UInt64 = 10_000
    @Option(help: "CPU cost model file, or 'none'.") var costs = "none"
    @OptionGroup var output: ReportOutput

    func run() throws {
        let counts = nodes.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 2 && $0 <= 100_000 }) else {
            throw ValidationError("--nodes takes counts between 2 and 100000, e.g. 1000,10000")
        }
        var bench = SimScaleBench()
        bench.nodeCounts = counts
        bench.durationMs = durationMs
        bench.pingIntervalMs = pingIntervalMs
        if costs != "none" {
            do { bench.costs = try CostModel.load(path: costs) } catch { throw ValidationError("cannot read \(costs)") }
        }
        try output.write(bench.run())
    }
}

struct DHTBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht", abstract: "Kademlia joins, lookups, puts and gets in the simulator, judged against its global view.")

    @Option(help: "Node counts, comma separated.") var nodes = "1000"
    @Option(help: "Kademlia k.") var k = 20
    @Option(help: "FIND_NODE lookups per run.") var lookups = 300
    @Option(help: "Puts per run (each key is then got once).") var puts = 100
    @Option(help: "Simulation seed.") var seed: UInt64 = 1
    @OptionGroup var output: ReportOutput

    func run() throws {
        let counts = nodes.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 2 && $0 <= 100_000 }) else {
            throw ValidationError("--nodes takes counts between 2 and 100000, e.g. 1000,10000")
        }
        guard (1...64).contains(k), lookups >= 0, puts >= 0 else {
            throw ValidationError("--k must be 1…64; --lookups and --puts must not be negative")
        }
        var bench = DHTBench()
        bench.nodeCounts = counts
        bench.k = k
        bench.lookups = lookups
        bench.puts = puts
        bench.seed = seed
        try output.write(bench.run())
    }
}

struct DHTLoopbackBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht-loopback",
        abstract: "Real nodes on real UDP sockets (127.X.Y.1 each) in one process: join, put and get latency and rate.")

    @Option(help: "Node counts, comma separated.") var nodes = "50,500"
    @Option(help: "Kademlia k.") var k = 20
    @Option(help: "Puts per run (from random nodes).") var puts = 50
    @Option(name: .customLong("gets"), help: "Gets run one at a time.") var sequentialGets = 200
    @Option(name: .customLong("concurrent-gets"), help: "Gets run --concurrency at a time.") var concurrentGets = 640
    @Option(help: "Gets in flight at once in the concurrent phase.") var concurrency = 32
    @Option(name: .customLong("join-batch"), help: "Nodes started together after the seed.") var joinBatch = 10
    @Option(name: .customLong("join-gap-ms"), help: "Pause between join batches.") var joinGapMs: UInt64 = 100
    @Option(help: "Seconds the joined nodes idle before the first put; upkeep CPU is measured over the last 2.")
    var settle = 2
    @OptionGroup var output: ReportOutput

    func run() throws {
        let counts = nodes.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 2 && $0 <= 60_000 }) else {
            throw ValidationError("--nodes takes counts between 2 and 60000, e.g. 50,500")
        }
        guard (1...64).contains(k), puts >= 1, sequentialGets >= 0, concurrentGets >= 0, concurrency >= 1, joinBatch >= 1 else {
            throw ValidationError("--k must be 1…64, --puts, --concurrency and --join-batch ≥ 1, gets ≥ 0")
        }
        guard (1...600).contains(settle) else { throw ValidationError("--settle takes 1…600 seconds") }
        var bench = DHTLoopbackBench()
        bench.nodeCounts = counts
        bench.k = k
        bench.puts = puts
        bench.sequentialGets = sequentialGets
        bench.concurrentGets = concurrentGets
        bench.concurrency = concurrency
        bench.joinBatch = joinBatch
        bench.joinGapMs = joinGapMs
        bench.settleSeconds = settle
        let configured = bench
        try output.write(try runBlocking("dht-loopback") { try await configured.run() })
    }
}

/// The root command is synchronous: runs an async bench on the cooperative pool and waits here
/// (nodes run on NIO's event loops, never on this thread).
func runBlocking(_ name: String, _ body: @escaping @Sendable () async throws -> BenchReport) throws -> BenchReport {
    let outcome = BlockingResult<BenchReport>()
    let finished = DispatchSemaphore(value: 0)
    Task {
        do { outcome.set(.success(try await body())) } catch { outcome.set(.failure(error)) }
        finished.signal()
    }
    finished.wait()
    switch outcome.get() {
    case let .success(report): return report
    case let .failure(error): throw ValidationError("\(name): \(error)")
    case nil: throw ValidationError("\(name): the bench ended without a report")
    }
}

/// A result handed from a task to the thread blocked on it.
final class BlockingResult<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, any Error>?

    func set(_ value: Result<Value, any Error>) { lock.withLock { result = value } }
    func get() -> Result<Value, any Error>? { lock.withLock { result } }
}
