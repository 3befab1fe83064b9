import Foundation
import PRSMNode

/// `prsm-sim bench sim`: how fast and how small the simulator runs many real nodes. Each node
/// pings a random peer every interval over a 10–50 ms network; no faults, no all-pairs round.
public struct SimScaleBench: Sendable {
    public var nodeCounts: [Int] = [1_000]
    public var durationMs: UInt64 = 600_000
    public var pingIntervalMs: UInt64 = 10_000
    public var seed: UInt64 = 1
    public var costs = CostModel.free

    public init() {}

    public func run() -> BenchReport {
        var rows: [JSONValue] = []
        for count in nodeCounts {
            let rssBefore = Self.residentBytes()
            var topology = Topology(name: "scale-\(count)", nodes: (1...count).map {
                NodeSpec(name: "n\($0)", roles: [.client], stake: 0, behaviour: nil, keySeed: "scale-\($0)")
            })
            topology.link = LinkModel(latency: .uniform(minMs: 10, maxMs: 50))
            topology.pingIntervalMs = pingIntervalMs
            topology.durationMs = durationMs
            var options = Simulation.Options(seed: seed)
            options.livenessRound = false
            options.sampleEveryMs = 10_000
            options.costs = costs
            let result = Simulation(topology: topology, options: options).run()
            let peak = Self.peakResidentBytes()
            rows.append(.object([
                "nodes": .int(count),
                "simulated_seconds": .double(result.simulatedSeconds),
                "wall_seconds": .double(result.wallSeconds),
                "simulated_per_wall": .double(result.simulatedSeconds / result.wallSeconds),
                "peak_rss_bytes": .int(peak),
                "rss_bytes_per_node": .int(max(0, peak - rssBefore) / count),
                "datagrams_delivered": .int(Int(result.network["delivered"] ?? 0)),
                "jobs": .int(Int(result.jobsRun)),
                "checks_passed": .string(result.passed ? "all" : result.checks.filter { !$0.passed }.map(\.name).joined(separator: ",")),
            ]))
        }
        return BenchReport(bench: "sim", params: [
            "nodes": .array(nodeCounts.map { .int($0) }), "duration_ms": .int(Int(durationMs)),
            "ping_interval_ms": .int(Int(pingIntervalMs)), "seed": .int(Int(seed)),
            "cpu_model": .string(costs.isFree ? "off" : "on"),
        ], results: ["runs": .array(rows)])
    }

    static func residentBytes() -> Int { statusField("VmRSS:") }
    static func peakResidentBytes() -> Int { statusField("VmHWM:") }

    /// CPU time this process used so far (user + system, every thread), in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// A /proc/self/status field in bytes.
    static func statusField(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kib * 1_024
    }
}
