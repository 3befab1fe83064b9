import Foundation
import Logging
import Metrics
import PRSMNode

/// Runs a topology's nodes — the real `Node` actors — in one process on one thread, against the
/// simulated network and virtual clocks, applying the fault timeline and the ping workload,
/// then asks every checker for its verdict. Same topology + seed + schedule ⇒ same trace hash.
public final class Simulation: @unchecked Sendable {
    public struct Options: Sendable {
        public var seed: UInt64
        public var randomSchedule = false
        public var keepTrace = false
        public var jobBudget: UInt64 = 500_000_000
        public var sampleEveryMs: UInt64 = 1_000
        /// The all-pairs ping round after the last fault (n² pings: off for scale benchmarks).
        public var livenessRound = true
        /// Virtual CPU prices (Simulations/costs.json); `.free` turns the CPU model off.
        public var costs = CostModel.free
        public init(seed: UInt64) { self.seed = seed }
    }

    public let topology: Topology
    public let options: Options
    let world: SimWorld
    let network: SimNetwork
    let genesis: Genesis
    private(set) var nodes: [SimNode] = []
    var checkers: [SimChecker] = []
    /// What the DHT workload measured (empty without one).
    public let dhtStats = DHTStats()
    /// What the consensus workload measured (empty without one).
    public let consensusStats = ConsensusStats()
    private var roots: [RootTask] = []
    /// Nodes running when the run's duration ended (before the shutdown stops them all).
    private(set) var aliveAtEnd = Set<Int>()
    private let nodeOptions: Node.Options
    /// One set of no-op counters for every node: they record nothing, and a set per node cost
    /// ~4 KB each (a counter object and label strings per drop reason).
    private let metrics = NodeMetrics(factory: NOOPMetricsHandler.instance)

    public init(topology: Topology, options: Options) {
        self.topology = topology
        self.options = options
        world = SimWorld(seed: options.seed, randomSchedule: options.randomSchedule, keepTrace: options.keepTrace)
        network = SimNetwork(world: world, link: topology.link, seed: options.seed)
        genesis = topology.genesis()
        var base = Node.Options(identity: topology.nodes[0].key, genesis: genesis)
        base.peers.maxPeers = topology.maxPeers
        base.peers.pingTimeoutMs = topology.pingBoundMs
        base.joinDHT = topology.dht != nil
        if let dht = topology.dht {
            base.dht.routing.k = dht.k
            base.dht.lookup.k = dht.k
            base.dht.records.republishIntervalMs = dht.republishIntervalMs
            base.reachabilityCheckDelayMs = dht.reachabilityCheckDelayMs
            base.peers.reachability.natMappingMs = 2 * dht.natMappingMs
        }
        nodeOptions = base
        let names = topology.nodes.map(\.name)
        checkers = [
            ReplayChecker(toleranceMs: base.pipeline.replay.toleranceMs, maxSkewMs: topology.maxClockSkewMs, names: names),
            BoundsChecker(maxPeers: topology.maxPeers, pipeline: base.pipeline, peers: base.peers, dht: base.dht,
                          ownRecords: topology.dht?.puts ?? 0, maxOutboundStreams: base.maxOutboundStreams, names: names),
            LivenessChecker(),
            PersistenceChecker(names: names),
            HonestPeersNotBannedChecker(names: names),
        ]
        if let dht = topology.dht {
            checkers += [
                DHTContactsChecker(minContacts: topology.dhtChecks.minContacts ?? dht.k,
                                   graceMs: topology.dhtChecks.joinGraceMs, names: names),
                DHTAnsweredChecker(names: names),
                StoreStormChecker(maxStoresPerPut: topology.dhtChecks.maxStoresPerPut ?? 3 * dht.k),
            ]
        }
        if let consensus = topology.consensus {
            let byzantine = Set(topology.nodes.indices.filter(topology.isByzantine))
            // Liveness is owed by the validators of the last epoch the topology asks for.
            let finalNames = consensus.reconfigurations.last.map { Set($0.validators) }
            let validatorNodes = Set(genesis.validators.map(\.nodeKey))
            let honestValidators = topology.nodes.indices.filter {
                guard !byzantine.contains($0) else { return false }
                if let finalNames { return finalNames.contains(topology.nodes[$0].name) }
                return validatorNodes.contains(topology.nodes[$0].key.publicKey)
            }
            checkers += [
                ConsensusAgreementChecker(byzantine: byzantine, names: names),
                ConsensusValidityChecker(networkID: genesis.networkID, byzantine: byzantine),
                DoubleVoteChecker(byzantine: byzantine, names: names),
                ConsensusLivenessChecker(settledAtMs: topology.settledAtMs, boundMs: consensus.livenessBoundMs,
                                         honestValidators: honestValidators),
            ]
        }
        network.spawn = { [unowned self] name, body in spawn(name, body) }
        network.natMappingUs = (topology.dht?.natMappingMs ?? 30_000) * 1_000
        for (index, spec) in topology.nodes.enumerated() {
            let store = SimStore(seed: options.seed, stream: "store.\(spec.name)",
                                 syncFailPerMillion: topology.storeSyncFailPerMillion)
            let node = SimNode(index: index, spec: spec, clock: SimClock(world: world, epochMs: genesis.timeMs), store: store)
            network.assign(node.address, to: index)
            if spec.nat { network.natNodes.insert(index) }
            nodes.append(node)
        }
    }

    /// Runs to the topology's duration, then stops every node and checks that all tasks ended.
    public func run() -> SimulationResult {
        let wallStart = ContinuousClock.now
        var spread = SimRandom(seed: options.seed, stream: "start-spread")
        let spreadMs = topology.dht?.startSpreadMs ?? 0
        for node in nodes {
            if spreadMs == 0 { start(node); continue }
            world.schedule(atUs: spread.below(spreadMs) * 1_000) { [self] in if !node.isAlive { start(node) } }
        }
        if let consensus = topology.consensus { scheduleClients(consensus) }
        if let dht = topology.dht {
            scheduleDHTWorkload(dht)
            world.schedule(atUs: (topology.durationMs - 1) * 1_000) { [self] in snapshotDHT() }
        }
        for fault in topology.faults {
            world.schedule(atUs: fault.atMs * 1_000) { [self] in apply(fault) }
        }
        if options.livenessRound && topology.pingAllPairs {
            world.schedule(atUs: (topology.settledAtMs + 1_000) * 1_000) { [self] in startLivenessRound() }
        }
        scheduleSampling(atMs: options.sampleEveryMs)
        let endUs = topology.durationMs * 1_000
        var budgetLeft = world.drive(untilUs: endUs, jobBudget: options.jobBudget)

        // Shut down: cancel every root task and let the executor drain; whatever is still
        // suspended afterwards with nothing left to wake it is a deadlock.
        world.record("sim shutdown")
        aliveAtEnd = Set(nodes.filter(\.isAlive).map(\.index))
        for node in nodes where node.isAlive { stop(node) }
        budgetLeft = budgetLeft && world.drive(untilUs: endUs, jobBudget: options.jobBudget)
        var results = checkers.map { $0.verdict(self) }
        let stuck = roots.filter { !$0.finished }.map(\.name)
        results.append(CheckResult(
            name: "no-deadlock", passed: stuck.isEmpty && budgetLeft,
            message: !budgetLeft ? "job budget of \(options.jobBudget) exhausted"
                : stuck.isEmpty ? "all \(roots.count) tasks finished"
                : "suspended with nothing to wake them: \(stuck.prefix(8).joined(separator: ", "))"))
        let wall = ContinuousClock.now - wallStart
        let hash = world.trace.finish()
        let stats = network.stats
        return SimulationResult(
            seed: options.seed, traceHash: hash.hex, checks: results,
            simulatedSeconds: Double(topology.durationMs) / 1_000,
            wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18,
            jobsRun: world.jobsRun, traceLines: world.trace.lines, traceEvents: world.trace.count,
            network: ["sent": stats.sent, "delivered": stats.delivered, "lost": stats.lost,
                      "partitioned": stats.partitioned, "duplicated": stats.duplicated, "unreachable": stats.unreachable,
                      "nat_filtered": stats.natFiltered, "bytes": stats.bytes],
            costs: options.costs, cpuBusyNs: cpuBusyNs, workload: workloadSummary)
    }

    private var workloadSummary: [String: Double]? {
        guard topology.dht != nil || topology.consensus != nil else { return nil }
        var summary: [String: Double] = [:]
        if topology.dht != nil { summary.merge(dhtStats.summary) { $1 } }
        if topology.consensus != nil { summary.merge(consensusStats.summary) { $1 } }
        return summary
    }

    /// Signatures checked by every incarnation of every node.
    var verifications: UInt64 { retiredVerifications + nodes.compactMap(\.cpu).map(\.verifies).reduce(0, +) }
    private var retiredVerifications: UInt64 = 0

    /// CPU time of every incarnation of every node.
    private var cpuBusyNs: UInt64 { retiredCPUNs + nodes.compactMap(\.cpu).map(\.totalNs).reduce(0, +) }
    private var retiredCPUNs: UInt64 = 0

    // MARK: node lifecycle

    private func start(_ sim: SimNode) {
        sim.incarnation += 1
        var options = nodeOptions
        options.identity = sim.key
        sim.lastStartMs = world.nowMs
        if let dht = topology.dht {
            options.bootstrap = dht.bootstrap.filter { $0 != sim.index }.map { nodes[$0].address }
        }
        switch sim.spec.behaviour {
        case .skipReplayCheck?: options.pipeline.replay.windowSize = 0
        case .unboundedTables?: options.peers.maxPeers = .max
        case .dhtTrustHearsay?: options.dht.brokenVariant = .trustHearsay
        case .dhtStoreStorm?: options.dht.brokenVariant = .storeOnEveryReply
        case .bansOnTimeout?:
            options.peers.scores.timeout = options.peers.scores.banThreshold
            options.peers.scores.timeoutFloor = options.peers.scores.minScore
        default: break
        }
        if let consensus = topology.consensus { options.consensus = consensusOptions(for: sim, consensus) }
        let index = sim.index
        options.observer = { [self] observation in observe(observation, at: index) }
        retiredCPUNs += sim.cpu?.totalNs ?? 0
        retiredVerifications += sim.cpu?.verifies ?? 0
        let cpu = SimCPU(world: world, model: self.options.costs)
        sim.cpu = cpu
        options.cpu = { work in cpu.charge(work) }
        let transport = SimTransport(address: sim.address, network: network, silent: sim.spec.behaviour == .silent,
                                     cpu: cpu)
        var logger = Logger(label: "sim.\(sim.name)")
        logger.logLevel = .critical
        let node = Node(options: options, transport: transport, clock: sim.clock,
                        random: SimRandom(seed: self.options.seed, stream: "node.\(sim.name).\(sim.incarnation)"),
                        metrics: metrics, logger: logger,
                        executor: world.executor, store: store(for: sim),
                        // Only consensus uses streams: a DHT-only node runs without their two tasks.
                        streams: runsConsensus(sim) ? transport : nil)
        sim.node = node
        sim.transport = transport
        network.attach(sim.address, node: index, inbox: transport.inbox)
        world.record("node \(sim.name) start #\(sim.incarnation)")
        let tag = "\(sim.name)#\(sim.incarnation)"
        if sim.incarnation > 1 {
            let synced = sim.store.durableEntries(.peers).compactMap {
                try? AddressBookCodec.decode(key: $0.key, value: $0.value)
            }
            spawn("\(tag).restore-check") { [self] in
                let restored = await node.knownPeers
                for checker in checkers { checker.observe(.restored(node: index, synced: synced, restored: restored)) }
            }
        }
        sim.tasks = [
            spawn("\(tag).run") { await node.run() },
            spawn("\(tag).events") { [self] in
                for await event in node.events { record(event, at: index) }
            },
            spawn("\(tag).workload") { [self] in await workload(sim, node) },
        ]
    }

    private func stop(_ sim: SimNode) {
        sim.store.crash()
        network.detach(sim.address)
        for task in sim.tasks { task.task?.cancel() }
        sim.node = nil
        sim.transport = nil
        world.record("node \(sim.name) stop")
    }

    /// An amnesiac node gets a blank store after a restart, as if its disk had been wiped.
    private func store(for sim: SimNode) -> SimStoreHandle {
        guard sim.spec.behaviour == .amnesiac, sim.incarnation > 1 else { return sim.store.handle() }
        return SimStore(seed: options.seed, stream: "amnesia.\(sim.name).\(sim.incarnation)", syncFailPerMillion: 0)
            .handle()
    }

    @discardableResult
    func spawn(_ name: String, _ body: @escaping @Sendable () async -> Void) -> RootTask {
        let root = RootTask(name: name)
        roots.append(root)
        root.task = Task(executorPreference: world.executor) {
            await body()
            root.finished = true
            // A finished task's handle would keep its storage (~1 KB) alive until the run ends.
            root.task = nil
        }
        return root
    }

    // MARK: workload

    /// Each node pings a random other node every `ping_interval_ms`, from a random phase.
    private func workload(_ sim: SimNode, _ node: Node) async {
        var random = SimRandom(seed: options.seed, stream: "workload.\(sim.name).\(sim.incarnation)")
        let interval = topology.pingIntervalMs
        guard interval > 0 else { return }
        var next = sim.clock.nowMs + random.below(interval) + 1
        while !Task.isCancelled, nodes.count > 1 {
            do { try await sim.clock.sleep(untilMs: next) } catch { return }
            var target = Int(random.below(UInt64(nodes.count - 1)))
            if target >= sim.index { target += 1 }
            await node.ping(nodes[target].address)
            next += interval
        }
    }

    /// The (pinger, target) pairs of the liveness round, fixed when it starts.
    private(set) var livenessPairs: [(from: Int, to: Int)]?

    private func startLivenessRound() {
        world.record("liveness round")
        let live = nodes.filter(\.isAlive)
        livenessPairs = live.flatMap { a in live.filter { $0.index != a.index }.map { (from: a.index, to: $0.index) } }
        let bound = topology.pingBoundMs
        livenessDeadlineUs = world.nowUs + bound * 1_000
        for sim in live {
            guard let node = sim.node else { continue }
            let targets = live.filter { $0.index != sim.index }
            // Retry unanswered targets a few times within the bound: one lost datagram is the
            // network's right, a peer that stays silent for the whole bound is a failure.
            sim.tasks.append(spawn("\(sim.name)#\(sim.incarnation).liveness") {
                let deadline = sim.clock.nowMs + bound
                var pending = targets
                while !pending.isEmpty, sim.clock.nowMs < deadline {
                    for target in pending {
                        let nonce = await node.ping(target.address)
                        sim.livenessPings[nonce] = target.index
                    }
                    do { try await sim.clock.sleep(untilMs: min(deadline, sim.clock.nowMs + max(1, bound / 5))) } catch { return }
                    pending = pending.filter { !sim.livenessAnswered.contains($0.index) }
                }
            })
        }
    }

    private var livenessDeadlineUs: UInt64 = 0

    private func record(_ event: NodeEvent, at index: Int) {
        let sim = nodes[index]
        switch event {
        case let .pingAnswered(reply):
            world.record("\(sim.name) pong \(reply.address) rtt=\(reply.rttMs)")
            if let target = sim.livenessPings.removeValue(forKey: reply.nonce), world.nowUs <= livenessDeadlineUs {
                sim.livenessAnswered.insert(target)
            }
        case let .pingTimedOut(nonce, address):
            world.record("\(sim.name) ping-timeout \(address) nonce=\(nonce)")
        case .dhtJoined:
            break
        case let .dhtJoinFailed(attempt, retryInMs, reason):
            world.record("\(sim.name) dht join failed attempt=\(attempt) retry_in=\(retryInMs) \(reason)")
        case .blockCommitted:
            break
        }
    }

    private func observe(_ observation: NodeObservation, at index: Int) {
        switch observation {
        case let .accepted(sender, sequence, timestamp, kind):
            world.record("\(nodes[index].name) accept \(sender) seq=\(sequence) kind=\(kind)")
            let simObservation = SimObservation.accepted(
                receiver: index, sender: sender, sequence: sequence, timestamp: timestamp,
                receiverNowMs: nodes[index].clock.nowMs, worldNowMs: world.nowMs)
            for checker in checkers { checker.observe(simObservation) }
            if topology.dht != nil {
                for checker in checkers { checker.observe(.message(receiver: index, sender: sender, kind: kind)) }
            }
        case let .dropped(reason):
            world.record("\(nodes[index].name) drop \(reason.rawValue)")
        case .dhtFinished:
            break
        case let .dhtContactAdded(contact):
            for checker in checkers { checker.observe(.dhtContactAdded(node: index, contact: contact)) }
        case .dhtPeerTimedOut:
            dhtStats.timeouts += 1
        case let .peerBanned(subject):
            world.record("\(nodes[index].name) bans \(subject)")
            for checker in checkers { checker.observe(.peerBanned(node: index, subject: subject)) }
        case let .dhtJoined(contacts):
            world.record("\(nodes[index].name) dht joined contacts=\(contacts)")
            dhtStats.joined.insert(index)
            dhtStats.joins[index, default: 0] += 1
        case .committed, .consensusSent, .consensusMisbehaviour, .consensusIgnored, .epochChanged, .stateSynced:
            observeConsensus(observation, at: index)
        }
    }

    private func scheduleSampling(atMs time: UInt64) {
        guard time < topology.durationMs else { return }
        world.schedule(atUs: time * 1_000) { [self] in
            for sim in nodes where sim.isAlive {
                guard let node = sim.node else { continue }
                let index = sim.index
                spawn("\(sim.name).sample@\(time)") { [self] in
                    let sizes = await node.tableSizes()
                    for checker in checkers { checker.observe(.tables(node: index, sizes: sizes)) }
                }
            }
            scheduleSampling(atMs: time + options.sampleEveryMs)
        }
    }

    // MARK: faults

    private func apply(_ fault: Fault) {
        world.record("fault \(fault.kind)")
        switch fault.kind {
        case let .partition(groups): network.partition(groups: groups, nodeCount: nodes.count)
        case let .oneWay(from, to): network.block(from: from, to: to)
        case .heal: network.heal()
        case let .crash(index): if nodes[index].isAlive { stop(nodes[index]) }
        case let .restart(index): if !nodes[index].isAlive { start(nodes[index]) }
        case let .drop(perMillion, untilMs): network.dropWindow = .init(perMillion: perMillion, untilMs: untilMs)
        case let .delay(extraMs, untilMs): network.delayWindow = .init(extraMs: extraMs, untilMs: untilMs)
        case let .duplicate(perMillion, untilMs): network.duplicateWindow = .init(perMillion: perMillion, untilMs: untilMs)
        case let .clockSkew(index, skewMs): nodes[index].clock.skewMs = skewMs
        }
    }
}
