import PRSMNode

/// Validity: every transaction an honest node committed carries a valid signature of its
/// sender for this network (checked here independently of the nodes, once per transaction).
final class ConsensusValidityChecker: SimChecker {
    let name = "consensus-validity"
    private let networkID: Digest32
    private let byzantine: Set<Int>
    private var checked = Set<Digest32>()
    private var invalid: [Digest32] = []

    init(networkID: Digest32, byzantine: Set<Int>) {
        self.networkID = networkID
        self.byzantine = byzantine
    }

    func observe(_ observation: SimObservation) {
        guard case let .committed(node, block, _, _) = observation, !byzantine.contains(node) else { return }
        for transaction in block.transactions where checked.insert(transaction.hash).inserted {
            if !transaction.isValidSignature(networkID: networkID) { invalid.append(transaction.hash) }
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        guard invalid.isEmpty else {
            return CheckResult(name: name, passed: false, message:
                "\(invalid.count) committed transactions are not validly signed, e.g. \(invalid[0])")
        }
        return CheckResult(name: name, passed: true, message: "\(checked.count) committed transactions validly signed")
    }
}
