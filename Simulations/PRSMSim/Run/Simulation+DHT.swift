import PRSMNode

/// The DHT workload: random live nodes put values, get them back and look up random ids; each
/// result is judged against the simulator's global view.
extension Simulation {
    /// Schedules every operation of the topology's DHT workload.
    func scheduleDHTWorkload(_ dht: DHTWorkload) {
        var random = SimRandom(seed: options.seed, stream: "dht.workload")
        var at = dht.opsStartMs
        var putValues: [[UInt8]] = []
        for index in 0..<dht.puts {
            let size = 32 + Int(random.below(UInt64(DHTLimits.maxValueSize - 32)))
            var value = Array("prsm-sim value \(index) ".utf8)
            while value.count < size { value.append(UInt8(truncatingIfNeeded: random.next())) }
            putValues.append(value)
            let pick = random.next()
            world.schedule(atUs: at * 1_000) { [self] in runPut(value, pick: pick) }
            at += dht.opIntervalMs
        }
        // Gets start once every put has had time to finish (a get of a key whose put is still
        // running would be skipped, not measured).
        at += DHTWorkload.putsSettleMs
        for _ in 0..<dht.getsPerPut {
            for value in putValues {
                let pick = random.next()
                let key = Blake2b.hash256(value)
                world.schedule(atUs: at * 1_000) { [self] in runGet(key, pick: pick) }
                at += dht.opIntervalMs
            }
        }
        for _ in 0..<dht.findNodes {
            let pick = random.next()
            let target = NodeID(digest: Blake2b.hash256(withUnsafeBytes(of: random.next(), Array.init)))
            world.schedule(atUs: at * 1_000) { [self] in runFindNode(target, pick: pick) }
            at += dht.opIntervalMs
        }
    }

    /// A live node that joined, chosen by `pick`; nil when none.
    private func joinedNode(_ pick: UInt64) -> SimNode? {
        let candidates = nodes.filter { $0.isAlive && dhtStats.joined.contains($0.index) }
        guard !candidates.isEmpty else { return nil }
        return candidates[Int(pick % UInt64(candidates.count))]
    }

    private func runPut(_ value: [UInt8], pick: UInt64) {
        guard let sim = joinedNode(pick), let node = sim.node else { return }
        dhtStats.putsStarted += 1
        spawn("\(sim.name).dht-put@\(world.nowMs)") { [self] in
            let result = await node.dhtPut(value)
            if result.storedAt > 0 { dhtStats.stored.append((result.target, value)) }
            dhtStats.add(.init(kind: .put, succeeded: result.storedAt > 0, hops: result.hops,
                               requests: result.requests, latencyMs: result.finishedMs - result.startedMs))
            world.record("\(sim.name) dht put \(result.target.hex.prefix(16)) stored=\(result.storedAt)")
        }
    }

    private func runGet(_ key: Digest32, pick: UInt64) {
        guard let sim = joinedNode(pick), let node = sim.node else { return }
        // Only keys some node confirmed storing count: a put that reached nobody cannot be got.
        guard dhtStats.stored.contains(where: { $0.key == key }) else { return }
        spawn("\(sim.name).dht-get@\(world.nowMs)") { [self] in
            let result = await node.dhtGet(key)
            let correct = result.value.map { Blake2b.hash256($0) == key } ?? false
            dhtStats.add(.init(kind: .get, succeeded: correct, hops: result.hops, requests: result.requests,
                               latencyMs: result.finishedMs - result.startedMs))
            world.record("\(sim.name) dht get \(key.hex.prefix(16)) found=\(correct)")
        }
    }

    private func runFindNode(_ target: NodeID, pick: UInt64) {
        guard let sim = joinedNode(pick), let node = sim.node else { return }
        let k = topology.dht?.k ?? 20
        spawn("\(sim.name).dht-find@\(world.nowMs)") { [self] in
            let result = await node.dhtFindNode(target)
            // The truth: the k live nodes closest to the target, the asker excluded (a table never
            // holds its own id), computed when the lookup ends.
            let live = nodes.filter { $0.isAlive && $0.index != sim.index }.map { $0.key.publicKey.nodeID }
            let truth = Set(live.sorted { $0.distance(to: target) < $1.distance(to: target) }.prefix(k))
            let found = Set(result.closest.map(\.id))
            dhtStats.add(.init(kind: .findNode, succeeded: !truth.isEmpty && found == truth, hops: result.hops,
                               requests: result.requests, latencyMs: result.finishedMs - result.startedMs))
            world.record("\(sim.name) dht find \(target) hops=\(result.hops) exact=\(found == truth)")
        }
    }

    /// Just before shutdown: what every live node's routing table holds, for the DHT checkers.
    func snapshotDHT() {
        for sim in nodes where sim.isAlive {
            guard let node = sim.node else { continue }
            let index = sim.index
            spawn("\(sim.name).dht-snapshot") { [self] in
                let contacts = await node.dhtContacts.map(\.publicKey)
                for checker in checkers {
                    checker.observe(.dhtSnapshot(node: index, contacts: contacts, startedMs: sim.lastStartMs))
                }
            }
        }
    }
}
