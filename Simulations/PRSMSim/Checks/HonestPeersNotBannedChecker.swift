import PRSMNode

/// No node bans an honest peer: not its key, not its IP address. Crashes, restarts, partitions
/// and lost datagrams make honest peers time out, and a timeout must never cost a ban (see
/// `PeerScores`). Bans of nodes with a faulty behaviour are expected and allowed.
final class HonestPeersNotBannedChecker: SimChecker {
    let name = "honest-peers-not-banned"
    let names: [String]
    private var bans: [(node: Int, subject: Misbehaviour.Subject)] = []

    init(names: [String]) { self.names = names }

    func observe(_ observation: SimObservation) {
        if case let .peerBanned(node, subject) = observation { bans.append((node, subject)) }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        let topology = simulation.topology
        let honest = simulation.nodes.indices.filter { !topology.isByzantine($0) }
        let keys = Dictionary(honest.map { (topology.nodes[$0].key.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
        let hosts = Dictionary(honest.map { (simulation.nodes[$0].address.reputationHost, $0) },
                               uniquingKeysWith: { first, _ in first })
        var violations: [String] = []
        for ban in bans {
            let banned: Int?
            switch ban.subject {
            case let .key(key): banned = keys[key]
            case let .ip(host): banned = hosts[host]
            }
            if let banned { violations.append("\(names[ban.node]) banned \(names[banned]) (\(ban.subject))") }
        }
        guard violations.isEmpty else {
            return CheckResult(name: name, passed: false,
                               message: "\(violations.count) bans of honest peers: \(violations.prefix(5).joined(separator: ", "))")
        }
        return CheckResult(name: name, passed: true,
                           message: "no honest peer banned (\(bans.count) bans of faulty nodes)")
    }
}
