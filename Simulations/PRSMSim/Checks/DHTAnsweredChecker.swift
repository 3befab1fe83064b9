import PRSMNode

/// No routing table holds a contact that never answered its owner: every contact must have sent
/// that node a reply (Pong, Nodes, Value or Stored) that passed its pipeline, before it entered the
/// table (checked as it enters, so a contact that answers only later is still caught) and at the end.
final class DHTAnsweredChecker: SimChecker {
    let name = "dht-contacts-answered"
    static let replyKinds: Set<UInt16> = [MessageKind.pong, .nodes, .value, .stored].map(\.rawValue).reduce(into: []) {
        $0.insert($1)
    }
    let names: [String]
    private var answeredBy: [Int: Set<PublicKey>] = [:]
    private var violations: [String] = []
    private var checked = 0

    init(names: [String]) { self.names = names }

    func observe(_ observation: SimObservation) {
        switch observation {
        case let .message(receiver, sender, kind) where Self.replyKinds.contains(kind):
            answeredBy[receiver, default: []].insert(sender)
        case let .dhtContactAdded(node, contact):
            checked += 1
            if !(answeredBy[node] ?? []).contains(contact) {
                violations.append("\(names[node]) added \(contact.nodeID) before it answered")
            }
        case let .dhtSnapshot(node, contacts, _):
            let answered = answeredBy[node] ?? []
            for contact in contacts {
                checked += 1
                if !answered.contains(contact) { violations.append("\(names[node]) holds \(contact.nodeID)") }
            }
        default:
            break
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        guard violations.isEmpty else {
            return CheckResult(name: name, passed: false, message:
                "\(violations.count) contacts never answered their holder: \(violations.prefix(5).joined(separator: ", "))")
        }
        return CheckResult(name: name, passed: true,
                           message: "all \(checked) table additions and final contacts had answered their holder")
    }
}
