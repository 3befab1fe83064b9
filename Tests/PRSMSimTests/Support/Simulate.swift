import Foundation
@testable import PRSMSim
import Synchronization

/// A run that did not end within its wall-clock limit (a hang in the simulator).
struct SimulationTimedOut: Error, CustomStringConvertible {
    let topology: String
    let seed: UInt64
    let limit: Duration
    var description: String { "\(topology) seed \(seed) did not finish within \(limit) of wall time" }
}

/// Runs `Simulation(...).run()` on its own dedicated thread (DESIGN.md "Determinism": under
/// `swift test` on 2 cores a simulation must not occupy a test's pool thread) and resumes when it
/// ends, or throws when it has not ended after `wallLimit`, so a hang fails the test instead of
/// hanging the suite. `prepare` sees the simulation before it runs (test hooks).
func simulate(
    _ topology: Topology, seed: UInt64, randomSchedule: Bool = false, keepTrace: Bool = false,
    costs: CostModel = .free, jobBudget: UInt64? = nil, wallLimit: Duration = .seconds(120),
    prepare: @escaping @Sendable (Simulation) -> Void = { _ in }
) async throws -> SimulationResult {
    var options = Simulation.Options(seed: seed)
    options.randomSchedule = randomSchedule
    options.keepTrace = keepTrace
    options.costs = costs
    if let jobBudget { options.jobBudget = jobBudget }
    let simulation = Simulation(topology: topology, options: options)
    let outcome = OneShot<SimulationResult?>()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SimulationResult, any Error>) in
        outcome.onResult { result in
            if let result { continuation.resume(returning: result) } else {
                continuation.resume(throwing: SimulationTimedOut(topology: topology.name, seed: seed, limit: wallLimit))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: wallLimit)
            outcome.deliver(nil)
        }
        let thread = Thread {
            prepare(simulation)
            outcome.deliver(simulation.run())
            timer.cancel()
        }
        thread.name = "sim \(topology.name) seed \(seed)"
        thread.stackSize = 64 << 20
        thread.start()
    }
}

/// Delivers the first value it is given to its one consumer; later values are ignored.
final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(delivered: Bool, consumer: (@Sendable (Value) -> Void)?)>((false, nil))

    func onResult(_ consumer: @escaping @Sendable (Value) -> Void) {
        state.withLock { $0.consumer = consumer }
    }

    func deliver(_ value: Value) {
        let consumer: (@Sendable (Value) -> Void)? = state.withLock { state in
            guard !state.delivered else { return nil }
            state.delivered = true
            return state.consumer
        }
        consumer?(value)
    }
}

extension SimulationResult {
    func check(_ name: String) -> CheckResult? { checks.first { $0.name == name } }

    /// "name: pass|FAIL message" per check, for failure messages.
    var report: String {
        checks.map { "\($0.name): \($0.passed ? "pass" : "FAIL") \($0.message)" }.joined(separator: "\n")
    }
}

/// Checks every run reports (others may be added).
let allCheckNames = ["no-replay-accepted", "tables-within-bounds", "ping-after-heal", "no-deadlock"]
