import PRSMNode

/// After the last fault and GST, every live node gets a Pong from every other live node within
/// the topology's ping bound.
final class LivenessChecker: SimChecker {
    let name = "ping-after-heal"

    func observe(_ observation: SimObservation) {}

    func verdict(_ simulation: Simulation) -> CheckResult {
        let bound = simulation.topology.pingBoundMs
        guard simulation.options.livenessRound && simulation.topology.pingAllPairs else {
            return CheckResult(name: name, passed: true, message: "not checked: the liveness round is off for this run")
        }
        guard let pairs = simulation.livenessPairs else {
            return CheckResult(name: name, passed: false, message: "the liveness round never ran (duration too short?)")
        }
        let missing = pairs.filter { !simulation.nodes[$0.from].livenessAnswered.contains($0.to) }
            .map { "\(simulation.nodes[$0.from].name)→\(simulation.nodes[$0.to].name)" }
        guard missing.isEmpty else {
            return CheckResult(name: name, passed: false, message:
                "\(missing.count) of \(pairs.count) pairs unanswered within \(bound) ms, e.g. \(missing.prefix(5).joined(separator: ", "))")
        }
        return CheckResult(name: name, passed: true, message: "\(pairs.count) pairs answered within \(bound) ms")
    }
}
