import Foundation
import PRSMNode

/// The JSON object every `prsm-sim bench NAME --json FILE` writes (DESIGN.md "Output contracts"):
/// bench, machine, commit, params, results.
public struct BenchReport: Encodable, Sendable {
    public struct Machine: Encodable, Sendable {
        public let cores: Int
        public let model: String
    }

    public let bench: String
    public let machine: Machine
    public let commit: String
    public let params: [String: JSONValue]
    public let results: [String: JSONValue]

    public init(bench: String, params: [String: JSONValue], results: [String: JSONValue]) {
        self.bench = bench
        machine = Machine(cores: ProcessInfo.processInfo.activeProcessorCount, model: BuildInfo.cpuModel)
        commit = BuildInfo.commit
        self.params = params
        self.results = results
    }

    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! encoder.encode(self)
    }
}

/// Numbers, strings and nested objects for reports.
public enum JSONValue: Encodable, Sendable {
    case int(Int)
    case double(Double)
    case string(String)
    case object([String: JSONValue])
    case array([JSONValue])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .int(value): try container.encode(value)
        case let .double(value): try container.encode((value * 1000).rounded() / 1000)
        case let .string(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        }
    }
}
