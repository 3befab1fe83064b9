import Foundation
import PRSMNode

/// Writes and reads a run directory: summary.json (DESIGN.md "Output contracts"), the topology
/// it ran, and trace.jsonl when asked for or when a check failed.
public enum RunArtifacts {
    public struct Summary: Codable, Sendable {
        public struct Check: Codable, Sendable {
            public let result: String
            public let message: String
        }

        public let seed: UInt64
        public let trace_hash: String
        public let commit: String
        public let build: String
        public let schedule: String
        public let checks: [String: Check]
        public let simulated_seconds: Double
        public let wall_seconds: Double
        public let jobs: UInt64
        public let trace_events: UInt64
        public let network: [String: UInt64]
        public let topology: String
        public let costs: CostModel
        public let cpu_busy_seconds: Double
        /// DHT workload measurements (absent without one).
        public var workload: [String: Double]?
    }

    public static func summary(of result: SimulationResult, schedule: String) -> Summary {
        Summary(
            seed: result.seed, trace_hash: result.traceHash, commit: BuildInfo.commit,
            build: BuildInfo.executableHash, schedule: schedule,
            checks: Dictionary(uniqueKeysWithValues: result.checks.map {
                ($0.name, Summary.Check(result: $0.passed ? "pass" : "fail", message: $0.message))
            }),
            simulated_seconds: result.simulatedSeconds, wall_seconds: result.wallSeconds, jobs: result.jobsRun,
            trace_events: result.traceEvents, network: result.network, topology: "topology.json",
            costs: result.costs, cpu_busy_seconds: Double(result.cpuBusyNs) / 1e9, workload: result.workload)
    }

    public static func write(_ result: SimulationResult, schedule: String, topologyBytes: Data, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary(of: result, schedule: schedule))
            .write(to: URL(fileURLWithPath: directory + "/summary.json"))
        try topologyBytes.write(to: URL(fileURLWithPath: directory + "/topology.json"))
        if !result.traceLines.isEmpty {
            var text = ""
            for line in result.traceLines {
                let space = line.firstIndex(of: " ")!
                let event = String(line[line.index(after: space)...])
                    .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                text += "{\"t_us\":\(line[..<space]),\"event\":\"\(event)\"}\n"
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/trace.jsonl"))
        }
    }

    public static func readSummary(from directory: String) throws -> Summary {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json"))
        return try JSONDecoder().decode(Summary.self, from: data)
    }
}
