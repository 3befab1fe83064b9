import PRSMNode

/// Agreement: the honest nodes' committed logs are prefixes of one log — never two different
/// blocks (or state roots) at one height — and each node commits gap-free, in height order.
final class ConsensusAgreementChecker: SimChecker {
    let name = "consensus-agreement"
    private let byzantine: Set<Int>
    private let names: [String]
    private var canonical: [UInt64: (hash: Digest32, root: Digest32, node: Int)] = [:]
    private var lastHeight: [Int: UInt64] = [:]
    private var violations: [String] = []
    private var commits = 0

    init(byzantine: Set<Int>, names: [String]) {
        self.byzantine = byzantine
        self.names = names
    }

    func observe(_ observation: SimObservation) {
        if case let .stateSynced(node, height, hash) = observation, !byzantine.contains(node) {
            // Its log jumps to the snapshot's block, which must be the one everybody committed.
            if let first = canonical[height], first.hash != hash {
                note("\(names[node]) state synced to \(hash) at height \(height), \(names[first.node]) committed \(first.hash)")
            }
            lastHeight[node] = max(lastHeight[node] ?? 0, height)
            return
        }
        guard case let .committed(node, block, root, _) = observation, !byzantine.contains(node) else { return }
        commits += 1
        let last = lastHeight[node] ?? 0
        // Never a gap. A restarted node may commit heights it had committed before (it lost the
        // unsynced tail, or its store): those must match the log, which the check below does.
        if block.height > last + 1 {
            note("\(names[node]) committed height \(block.height) after \(last)")
        }
        lastHeight[node] = block.height
        guard let first = canonical[block.height] else {
            canonical[block.height] = (block.hash, root, node)
            return
        }
        if first.hash != block.hash {
            note("height \(block.height): \(names[first.node]) committed \(first.hash), \(names[node]) committed \(block.hash)")
        } else if first.root != root {
            note("height \(block.height): state roots differ between \(names[first.node]) and \(names[node])")
        }
    }

    private func note(_ violation: String) {
        if violations.count < 20 { violations.append(violation) }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        guard violations.isEmpty else {
            return CheckResult(name: name, passed: false, message: violations.prefix(5).joined(separator: "; "))
        }
        return CheckResult(name: name, passed: true, message:
            "\(commits) honest commits agree on \(canonical.count) heights")
    }
}
