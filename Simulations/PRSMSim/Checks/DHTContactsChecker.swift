import PRSMNode

/// After joins, every live node's routing table holds at least min(k, live nodes − 1) contacts
/// (the Python Kademlia left 243 of 500 joiners with empty tables).
final class DHTContactsChecker: SimChecker {
    let name = "dht-min-contacts"
    let minContacts: Int
    let graceMs: UInt64
    let names: [String]
    private var snapshots: [Int: (contacts: Int, startedMs: UInt64)] = [:]

    init(minContacts: Int, graceMs: UInt64, names: [String]) {
        self.minContacts = minContacts
        self.graceMs = graceMs
        self.names = names
    }

    func observe(_ observation: SimObservation) {
        guard case let .dhtSnapshot(node, contacts, startedMs) = observation else { return }
        snapshots[node] = (contacts.count, startedMs)
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        let end = simulation.topology.durationMs
        let held = snapshots.filter { $0.value.startedMs + graceMs <= end }
        let required = min(minContacts, max(0, snapshots.count - 1))
        let short = held.filter { $0.value.contacts < required }.sorted { $0.key < $1.key }
        guard !snapshots.isEmpty else {
            return CheckResult(name: name, passed: false, message: "no live node reported its routing table")
        }
        guard short.isEmpty else {
            let examples = short.prefix(5).map { "\(names[$0.key]) has \($0.value.contacts)" }
            return CheckResult(name: name, passed: false, message:
                "\(short.count) of \(held.count) live nodes hold fewer than \(required) contacts: \(examples.joined(separator: ", "))")
        }
        let fewest = held.map(\.value.contacts).min() ?? 0
        return CheckResult(name: name, passed: true, message:
            "\(held.count) live nodes hold ≥ \(required) contacts (fewest \(fewest)); \(snapshots.count - held.count) restarted within the grace period")
    }
}
