import Foundation
import NIOCore
import PRSMNode
import PRSMSim
import PRSMTransportNIO
import Synchronization
import Testing

/// The simulator's partition-heal scenario (topologies/partition-heal.json) on real sockets: the
/// same four nodes and keys, the same genesis, the same fault timeline (time-compressed), and the
/// properties PRSMSim's checkers assert — "no-replay-accepted" and "ping-after-heal".
@Suite("partition-heal over loopback UDP", .timeLimit(.minutes(1)))
struct PartitionHealLoopbackTests {
    /// Wall time runs this many times faster than the topology's timeline (its 20 s partition
    /// lasts 1 s). The ping bound of the liveness round is not compressed: it is the assertion.
    static let compression: UInt64 = 20

    static var topologyPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("topologies/partition-heal.json").path
    }

    @Test func partitionAndHealPassTheSimulatorsChecksOverLoopbackUDP() async throws {
        try await withTaskExecutorPreference(DriverExecutor.shared) { try await scenario() }
    }

    func scenario() async throws {
        let topology = try TopologyLoader.load(path: Self.topologyPath)
        try #require(topology.nodes.count == 4)
        let partitions = topology.faults.compactMap { fault -> [[Int]]? in
            if case let .partition(groups) = fault.kind { return groups } else { return nil }
        }
        try #require(partitions.count == 1 && topology.faults.contains { $0.kind == .heal },
                     "the scenario is one partition and its heal")

        // As Simulation configures its nodes, with the ping timeout compressed like the timeline.
        var options = Node.Options(identity: topology.nodes[0].key, genesis: topology.genesis())
        options.joinDHT = false
        options.peers.maxPeers = topology.maxPeers
        options.peers.pingTimeoutMs = topology.pingBoundMs / Self.compression
        options.tickMs = 25

        let cluster = try await LoopbackCluster.start(topology, options: options, driver: DriverExecutor.shared)
        let workload = Background(on: DriverExecutor.shared) {
            await Self.workload(cluster, everyMs: topology.pingIntervalMs / Self.compression)
        }
        let outcome: Result<Run, any Error>
        do { outcome = .success(try await Self.drive(cluster)) } catch { outcome = .failure(error) }
        _ = await workload.cancel(within: .seconds(2))
        await cluster.stopAll()
        let run = try outcome.get()
        let (ledger, counts) = (cluster.ledger, cluster.counts)

        // While partitioned: same-group pairs answer, cross-group Pings time out.
        #expect(run.probe.count == 12)
        #expect(run.probe.filter(\.sameGroup).count == 4)
        for result in run.probe {
            if result.sameGroup {
                #expect(result.answeredBy == topology.nodes[result.to].key.publicKey,
                        "\(result.pair) (same side) got \(result.outcome) after \(result.attempts) attempt(s)")
            } else {
                #expect(result.outcome == .timedOut, "\(result.pair) (across the partition) got \(result.outcome)")
            }
        }
        #expect(counts.deniedOutbound > 0, "the deny lists cut some traffic")

        // ping-after-heal: every live pair answered within the topology's bound.
        #expect(run.liveness.pairs == 12)
        #expect(run.liveness.missing.isEmpty, """
            \(run.liveness.missing.count) of \(run.liveness.pairs) pairs unanswered within \(topology.pingBoundMs) ms: \
            \(run.liveness.missing)
            """)

        // no-replay-accepted, and evidence that replays were offered and refused.
        #expect(ledger.firstViolation == nil, "\(ledger.firstViolation ?? "")")
        #expect(ledger.accepted >= UInt64(2 * run.liveness.pairs), "at least the liveness round's Pings and Pongs")
        let replay = run.replay
        for receiver in 1..<4 {
            #expect(ledger.acceptances(at: receiver, from: replay.sender, sequence: replay.sequence) == 1,
                    "node \(receiver) accepts the captured Ping once of \(replay.copies) copies")
            #expect(ledger.replayedDrops(at: receiver) >= UInt64(replay.copies - 1))
        }
        #expect(counts.duplicated >= 4, "every wrapper duplicated at least one datagram in the burst")
        #expect(ledger.replayedDrops > UInt64(replay.refusedCopies), "wrapper duplicates were dropped as replays too")
        #expect(ledger.replayedDrops <= UInt64(replay.refusedCopies) + counts.duplicated)
    }

    struct Run {
        let replay: CapturedReplay
        let probe: [ProbeResult]
        let liveness: (pairs: Int, missing: [String])
    }

    /// The scenario on a started cluster: replays from a stranger, the compressed fault timeline
    /// with a probe of every pair while partitioned, then the liveness round.
    static func drive(_ cluster: LoopbackCluster) async throws -> Run {
        let topology = cluster.topology
        // Time for the node's own verdict on a Ping (its compressed timeout plus ticks), with room
        // for a loaded machine; only an unanswered Ping waits that long.
        let verdictWait = Duration.milliseconds(cluster.options.peers.pingTimeoutMs * 8)

        // 1. A captured Ping of node 0, sent from another socket 4 times to each other node.
        let replay = try await replayCapturedPing(cluster, copies: 4)

        // 2. The fault timeline, compressed; while partitioned, probe every pair.
        let start = ContinuousClock.now
        func at(_ topologyMs: UInt64) -> ContinuousClock.Instant { start + .milliseconds(topologyMs / compression) }
        var probe: Background<[ProbeResult]>?
        for step in timeline(topology) {
            try? await Task.sleep(until: at(step.atMs), clock: .continuous)
            switch step.action {
            case let .fault(.partition(groups)):
                try await cluster.apply(.partition(groups: groups))
                let nodes = cluster.liveNodes
                probe = Background(on: DriverExecutor.shared) { await Self.probe(nodes, groups: groups, wait: verdictWait) }
            case .fault(.heal):
                // Heal only once the probe has its verdicts, even if a loaded machine makes the
                // partition longer than scheduled: the verdicts are what the partition is checked by.
                _ = await probe?.value(within: verdictWait * 4)
                try await cluster.apply(.heal)
            case let .fault(.duplicate(perMillion, untilMs)):
                try await cluster.apply(.duplicate(perMillion: perMillion, untilMs: untilMs))
                await burst(cluster)
            case let .fault(kind): try await cluster.apply(kind)
            case .endDrop: cluster.endDropWindow()
            case .endDuplicate: cluster.endDuplicateWindow()
            }
        }
        let probed = try #require(await probe?.value(within: .zero), "the partition probe did not finish")

        // 3. The liveness round, as Simulation runs it one second after the network settled.
        try? await Task.sleep(until: at(topology.settledAtMs + 1_000), clock: .continuous)
        let liveness = await livenessRound(cluster.liveNodes, boundMs: topology.pingBoundMs)
        // Let in-flight duplicates land before the nodes stop.
        _ = await waitUntil(.seconds(1)) { cluster.ledger.replayedDrops > UInt64(replay.refusedCopies) }
        return Run(replay: replay, probe: probed, liveness: liveness)
    }

    // MARK: the timeline

    enum Action {
        case fault(Fault.Kind)
        case endDrop, endDuplicate
    }

    /// The topology's faults in time order, with the end of each `drop`/`duplicate` window.
    static func timeline(_ topology: Topology) -> [(atMs: UInt64, action: Action)] {
        var steps: [(atMs: UInt64, order: Int, action: Action)] = []
        for (order, fault) in topology.faults.enumerated() {
            steps.append((fault.atMs, 2 * order, .fault(fault.kind)))
            switch fault.kind {
            case let .drop(_, untilMs): steps.append((untilMs, 2 * order + 1, .endDrop))
            case let .duplicate(_, untilMs): steps.append((untilMs, 2 * order + 1, .endDuplicate))
            default: break
            }
        }
        return steps.sorted { ($0.atMs, $0.order) < ($1.atMs, $1.order) }.map { ($0.atMs, $0.action) }
    }

    // MARK: workload, probe, liveness

    /// Like Simulation's workload: every interval each live node pings another (round robin).
    static func workload(_ cluster: LoopbackCluster, everyMs interval: UInt64) async {
        var turn = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(max(1, interval)))
            for node in cluster.liveNodes {
                let others = cluster.addresses.indices.filter { $0 != node.index }
                _ = await node.sendPing(cluster.addresses[others[turn % others.count]])
            }
            turn += 1
        }
    }

    /// Makes the duplicate window visible whatever the workload managed: each live node pings
    /// each other live node `duplicateEvery` times, so every wrapper passes at least that many
    /// sends to a reachable peer and doubles one of them.
    static func burst(_ cluster: LoopbackCluster) async {
        for node in cluster.liveNodes {
            let every = max(1, Int(node.faults.faults.duplicateEvery))
            for target in cluster.liveNodes where target.index != node.index {
                for _ in 0..<every { _ = await node.sendPing(target.address) }
            }
        }
    }

    struct ProbeResult: Sendable {
        let from: Int, to: Int
        let pair: String
        let sameGroup: Bool
        let outcome: LoopbackNode.PingOutcome
        let attempts: Int

        var answeredBy: PublicKey? {
            if case let .answered(reply) = outcome { return reply.peer } else { return nil }
        }
    }

    /// Every ordered pair pings once; a same-group pair retries twice (the link loses 1 in n).
    static func probe(_ nodes: [LoopbackNode], groups: [[Int]], wait: Duration) async -> [ProbeResult] {
        var groupOf: [Int: Int] = [:]
        for (group, members) in groups.enumerated() { for member in members { groupOf[member] = group } }
        return await withTaskGroup(of: ProbeResult.self) { group in
            for a in nodes {
                for b in nodes where b.index != a.index {
                    let same = groupOf[a.index] == groupOf[b.index]
                    group.addTask {
                        var attempts = 0
                        var outcome = LoopbackNode.PingOutcome.noVerdict
                        repeat {
                            attempts += 1
                            outcome = await a.ping(b.address, within: wait)
                            if case .answered = outcome { break }
                        } while same && attempts < 3
                        return ProbeResult(from: a.index, to: b.index, pair: "\(a.name)→\(b.name)", sameGroup: same,
                                           outcome: outcome, attempts: attempts)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }.sorted { ($0.from, $0.to) < ($1.from, $1.to) }
        }
    }

    /// Simulation's liveness round in wall time: each live node pings every other live node and
    /// re-pings the silent ones every bound/5 until all answered (by the right key) or the bound passed.
    static func livenessRound(_ nodes: [LoopbackNode], boundMs: UInt64) async -> (pairs: Int, missing: [String]) {
        let deadline = ContinuousClock.now + .milliseconds(boundMs)
        let missing = await withTaskGroup(of: [String].self) { group in
            for node in nodes {
                let targets = nodes.filter { $0.index != node.index }
                group.addTask {
                    var pending = targets
                    var asked: [(nonce: UInt64, target: LoopbackNode)] = []
                    func answered(_ target: LoopbackNode) -> Bool {
                        asked.contains { $0.target.index == target.index && node.answer(to: $0.nonce)?.peer == target.key.publicKey }
                    }
                    while !pending.isEmpty, ContinuousClock.now < deadline {
                        for target in pending { asked.append((await node.sendPing(target.address), target)) }
                        let retryAt = min(deadline, ContinuousClock.now + .milliseconds(boundMs / 5))
                        while ContinuousClock.now < retryAt, !pending.allSatisfy(answered) {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                        pending = pending.filter { !answered($0) }
                    }
                    return pending.map { "\(node.name)→\($0.name)" }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }.sorted()
        }
        return (nodes.count * (nodes.count - 1), missing)
    }

    // MARK: replays from a stranger

    struct CapturedReplay {
        let sender: PublicKey
        let sequence: UInt64
        let copies: Int
        let refusedCopies: Int
    }

    /// Node 0 pings a bare UDP socket, which captures the signed Ping and sends it `copies` times
    /// to every other node: each must answer the first copy and drop the rest as replays.
    static func replayCapturedPing(_ cluster: LoopbackCluster, copies: Int) async throws -> CapturedReplay {
        let tap = try await UDPTransport.bind(.ipv4(127, 0, 70, 1, port: 0))
        let captured = Mutex<[ByteBuffer]>([])
        let reader = Background(on: DriverExecutor.shared) { await tap.deliver { batch in captured.withLock { $0 += batch.map(\.bytes) } } }
        let origin = try #require(cluster.node(0))
        _ = await origin.sendPing(tap.localAddress)
        let gotPing = await waitUntil(.seconds(2)) { !captured.withLock { $0.isEmpty } }
        try #require(gotPing, "the tap never received node 0's Ping")
        let ping = captured.withLock { $0[0] }
        let envelope = try Envelope.parse(ping)
        try #require(envelope.sender == origin.key.publicKey)

        let receivers = cluster.liveNodes.filter { $0.index != 0 }
        for receiver in receivers {
            for _ in 0..<copies { tap.send(ping, to: receiver.address) }
        }
        let settled = await waitUntil(.seconds(2)) {
            receivers.allSatisfy {
                cluster.ledger.acceptances(at: $0.index, from: envelope.sender, sequence: envelope.sequence) == 1
                    && cluster.ledger.replayedDrops(at: $0.index) >= UInt64(copies - 1)
            }
        }
        #expect(settled, "every receiver accepts the first copy and refuses the others")
        await tap.close()
        #expect(await reader.value(within: .seconds(2)) != nil, "the tap's reader ended with its socket")
        return CapturedReplay(sender: envelope.sender, sequence: envelope.sequence, copies: copies,
                              refusedCopies: receivers.count * (copies - 1))
    }
}

/// A task whose end can be awaited with a deadline (awaiting `Task.value` cannot be bounded).
final class Background<Value: Sendable>: Sendable {
    private final class Box: Sendable { let result = Mutex<Value?>(nil) }
    private let box = Box()
    private let task: Task<Void, Never>

    init(on executor: (any TaskExecutor)?, _ body: @escaping @Sendable () async -> Value) {
        let box = box
        task = Task(executorPreference: executor) { let value = await body(); box.result.withLock { $0 = value } }
    }

    var isFinished: Bool { box.result.withLock { $0 != nil } }

    /// The result, waiting at most `limit` for it.
    func value(within limit: Duration) async -> Value? {
        _ = await waitUntil(limit) { self.isFinished }
        return box.result.withLock { $0 }
    }

    /// Cancels and waits at most `limit` for the body to return.
    func cancel(within limit: Duration) async -> Value? {
        task.cancel()
        return await value(within: limit)
    }
}
