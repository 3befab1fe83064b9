import PRSMNode

/// Liveness: after the network settles (heal, GST, the last fault), every honest validator that
/// is alive at the end commits a new block within the stated virtual-time bound.
final class ConsensusLivenessChecker: SimChecker {
    let name = "consensus-liveness"
    private let settledAtMs: UInt64
    private let boundMs: UInt64
    private let honestValidators: [Int]
    private var firstCommitAfterSettled: [Int: UInt64] = [:]

    init(settledAtMs: UInt64, boundMs: UInt64, honestValidators: [Int]) {
        self.settledAtMs = settledAtMs
        self.boundMs = boundMs
        self.honestValidators = honestValidators
    }

    func observe(_ observation: SimObservation) {
        guard case let .committed(node, _, _, atMs) = observation, atMs > settledAtMs,
              firstCommitAfterSettled[node] == nil else { return }
        firstCommitAfterSettled[node] = atMs
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        let deadline = settledAtMs + boundMs
        let live = honestValidators.filter(simulation.aliveAtEnd.contains)
        let late = live.filter { (firstCommitAfterSettled[$0] ?? .max) > deadline }
        guard late.isEmpty else {
            let names = late.prefix(5).map { simulation.nodes[$0].name }.joined(separator: ", ")
            return CheckResult(name: name, passed: false, message:
                "\(late.count) of \(live.count) honest validators committed nothing between \(settledAtMs) and \(deadline) ms: \(names)")
        }
        let slowest = live.compactMap { firstCommitAfterSettled[$0] }.max().map { $0 - settledAtMs } ?? 0
        return CheckResult(name: name, passed: true, message:
            "all \(live.count) honest validators committed within \(slowest) ms of \(settledAtMs) ms (bound \(boundMs))")
    }
}
