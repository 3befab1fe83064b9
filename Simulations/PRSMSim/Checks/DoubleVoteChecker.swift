import PRSMNode

/// No honest validator key ever votes for two different blocks in one view (of one epoch).
final class DoubleVoteChecker: SimChecker {
    let name = "consensus-no-double-vote"
    private let byzantine: Set<Int>
    private let names: [String]
    private var votes: [Int: [ViewOfEpoch: Digest32]] = [:]

    struct ViewOfEpoch: Hashable {
        let epoch: UInt64
        let view: UInt64
    }
    private var violations: [String] = []
    private var count = 0

    init(byzantine: Set<Int>, names: [String]) {
        self.byzantine = byzantine
        self.names = names
    }

    func observe(_ observation: SimObservation) {
        guard case let .consensusSent(node, .vote(vote)) = observation, !byzantine.contains(node) else { return }
        count += 1
        let at = ViewOfEpoch(epoch: vote.epoch, view: vote.view)
        if let earlier = votes[node]?[at], earlier != vote.blockHash {
            if violations.count < 20 {
                violations.append("\(names[node]) voted twice in view \(vote.view) of epoch \(vote.epoch)")
            }
        }
        votes[node, default: [:]][at] = vote.blockHash
        // Old views cannot conflict with new votes: keep the table bounded.
        if let views = votes[node], views.count > 4_096 {
            votes[node] = views.filter { $0.key.epoch == vote.epoch && $0.key.view + 1_024 > vote.view }
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        guard violations.isEmpty else {
            return CheckResult(name: name, passed: false, message: violations.prefix(5).joined(separator: "; "))
        }
        return CheckResult(name: name, passed: true, message: "\(count) honest votes, none conflicting")
    }
}
