import PRSMNode

/// A restarted node starts from exactly what it had synced before the crash: every synced peer
/// (key, address, last seen) and nothing that was never synced.
final class PersistenceChecker: SimChecker {
    let name = "restart-restores-synced-state"
    private var restarts = 0
    private var restoredPeers = 0
    private var firstViolation: String?
    private let names: [String]

    init(names: [String]) { self.names = names }

    func observe(_ observation: SimObservation) {
        guard case let .restored(node, synced, restored) = observation else { return }
        restarts += 1
        restoredPeers += restored.count
        guard firstViolation == nil else { return }
        let expected = synced.map { "\($0.key.hex)@\($0.address)@\($0.lastSeenMs)" }.sorted()
        let actual = restored.map { "\($0.key.hex)@\($0.address)@\($0.lastSeenMs)" }.sorted()
        if expected != actual {
            firstViolation = "\(names[node]) restarted with \(actual.count) peers; it had synced \(expected.count)"
                + (Set(expected) == Set(actual) ? "" : " (different entries)")
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        CheckResult(name: name, passed: firstViolation == nil, message: firstViolation
            ?? (restarts == 0 ? "no restarts in this run" : "\(restarts) restarts restored \(restoredPeers) synced peers"))
    }
}
