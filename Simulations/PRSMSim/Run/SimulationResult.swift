import PRSMNode

/// What one seeded run produced (written as summary.json by `prsm-sim run`).
public struct SimulationResult: Sendable {
    public let seed: UInt64
    public let traceHash: String
    public let checks: [CheckResult]
    public let simulatedSeconds: Double
    public let wallSeconds: Double
    public let jobsRun: UInt64
    public let traceLines: [String]
    public let traceEvents: UInt64
    public let network: [String: UInt64]
    public let costs: CostModel
    /// Virtual CPU time all nodes spent on modelled work.
    public let cpuBusyNs: UInt64
    /// What the workload measured beyond the checks (the DHT's success rates and hops), if any.
    public var workload: [String: Double]? = nil

    public var passed: Bool { checks.allSatisfy(\.passed) }
}

public struct CheckResult: Sendable, Equatable {
    public let name: String
    public let passed: Bool
    public let message: String
}
