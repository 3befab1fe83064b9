import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PRSMNode
import PRSMSim
import PRSMTransportNIO
import Synchronization
import Testing

/// Kademlia on real sockets: 64 `Node` actors in this process (k = 4), each on its own UDP socket
/// at its own 127.31.Y.1 (a /24 per node, so the per-prefix limits of the routing table and the
/// receive pipeline see distinct networks), all joining through one seed, a batch at a time.
/// Then every node finds 20 others and is found by 20 others, puts and gets from random nodes
/// succeed, and after the holders of one value are stopped except one, the value is still found
/// and re-replicated (by the survivor's republish: see `reReplication`).
@Suite("DHT over loopback UDP", .timeLimit(.minutes(3)))
struct DHTLoopbackTests {
    static let nodeCount = 64
    static let k = 4
    static let puts = 10
    /// Nodes started together; the next batch starts `batchGap` later, once this one joined.
    static let batchSize = 8
    static let batchGap = Duration.milliseconds(100)
    /// FIND_NODE lookups per node (63 would be every pair: ~3× the time, too slow for a loaded
    /// 2-core machine in a debug build), and lookups in flight across the cluster.
    static let findsPerNode = 20
    static let lookupsInFlight = 16
    /// Short, so the surviving holder re-replicates within the test (the default is an hour).
    static let republishIntervalMs: UInt64 = 2_000

    static func options(key: SigningKey, bootstrap: [PeerAddress]) -> Node.Options {
        var options = Node.Options(identity: key, genesis: Devnet.genesis)
        options.bootstrap = bootstrap
        options.tickMs = 100
        options.dht.routing.k = k
        options.dht.lookup.k = k
        options.dht.requestTimeoutMs = 500
        options.dht.lookup.requestTimeoutMs = 500
        options.dht.joinRetryBaseMs = 250
        options.dht.joinRetryMaxMs = 2_000
        options.dht.records.republishIntervalMs = republishIntervalMs
        return options
    }

    static func address(_ index: Int) -> PeerAddress {
        .ipv4(127, UInt8(31 + index / 250), UInt8(1 + index % 250), 1, port: 0)
    }

    @Test func nodesJoinFindEachOtherStoreAndReReplicateOverLoopbackUDP() async throws {
        try await withTaskExecutorPreference(DriverExecutor.shared) { try await scenario() }
    }

    func scenario() async throws {
        let start = ContinuousClock.now
        let dropsBefore = KernelUDP.snmp()
        let nodes = DHTLoopbackNodes()
        let outcome: Result<Void, any Error>
        do {
            try await drive(nodes)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let stopped: Void? = await DHTLoopbackWait.bounded(.seconds(20)) { await nodes.stopAll() }
        #expect(stopped != nil, "every node stopped within 20 s")
        if let before = dropsBefore, let after = KernelUDP.snmp() {
            print("DHTLoopbackTests: kernel UDP RcvbufErrors +\(after.rcvbufErrors - before.rcvbufErrors), "
                  + "InErrors +\(after.inErrors - before.inErrors) during the test (whole host)")
        }
        print("DHTLoopbackTests: total \(ContinuousClock.now - start)")
        try outcome.get()
    }

    func drive(_ nodes: DHTLoopbackNodes) async throws {
        // 1. The seed, then the others through it, a batch at a time.
        let phase = ContinuousClock.now
        let seed = try await DHTLoopbackNode(index: 0, options: Self.options(key: .generate(), bootstrap: []))
        nodes.add(seed)
        for batchStart in stride(from: 1, to: Self.nodeCount, by: Self.batchSize) {
            var batch: [DHTLoopbackNode] = []
            for index in batchStart..<min(batchStart + Self.batchSize, Self.nodeCount) {
                batch.append(try await DHTLoopbackNode(
                    index: index, options: Self.options(key: .generate(), bootstrap: [seed.address])))
            }
            for node in batch { nodes.add(node) }
            try? await Task.sleep(for: Self.batchGap)
            // The next batch once this one joined (bounded): a burst of joins on a loaded machine
            // delays replies past the request timeout, and a newcomer whose neighbours' Pings to it
            // time out is never added to their tables.
            _ = await DHTLoopbackWait.until(.seconds(10)) {
                for node in batch where await node.node.dhtJoinState != .joined { return false }
                return true
            }
        }
        let all = nodes.live
        try #require(all.count == Self.nodeCount)
        try #require(Set(all.map { $0.address.hostBytes }).count == Self.nodeCount, "one address per node")

        let joined = await DHTLoopbackWait.until(.seconds(30)) {
            for node in all where await node.node.dhtJoinState != .joined { return false }
            return true
        }
        if !joined {
            var states: [String] = []
            for node in all { states.append("\(node.index):\(await node.node.dhtJoinState.label)") }
            Issue.record("not every node joined within 30 s: \(states.filter { !$0.hasSuffix(":joined") })")
        }
        try #require(joined)
        print("DHTLoopbackTests: \(Self.nodeCount) nodes started and joined in \(ContinuousClock.now - phase)")

        // Settle: every node is in at least k others' routing tables (its neighbours add it once
        // it answers their Ping), so FIND_NODE can reach it. Not asserted: the lookups are.
        let settle = ContinuousClock.now
        var known: [NodeID: Int] = [:]
        let settled = await DHTLoopbackWait.until(.seconds(20)) {
            known = [:]
            for node in all { for contact in await node.node.dhtContacts { known[contact.id, default: 0] += 1 } }
            return all.allSatisfy { (known[$0.id] ?? 0) >= Self.k }
        }
        // Diagnostics: `unexpected` drops are mostly replies that came after their request timed out.
        var drops: [String: UInt64] = [:]
        var clients: [Int] = []
        for node in all {
            for (reason, count) in await node.node.dropCounters.byReason where count > 0 { drops[reason, default: 0] += count }
            if await node.node.dhtStatus().mode != "server" { clients.append(node.index) }
        }
        print("DHTLoopbackTests: tables settled=\(settled) in \(ContinuousClock.now - settle); in-degree min "
              + "\(all.map { known[$0.id] ?? 0 }.min() ?? 0), below k: "
              + "\(all.filter { (known[$0.id] ?? 0) < Self.k }.map { "\($0.index):\(known[$0.id] ?? 0)" }); "
              + "drops so far \(drops.sorted { $0.key < $1.key }); client-mode nodes \(clients)")

        // 2. Every node finds 20 others, every node is found by 20 (FIND_NODE's k closest
        //    include the target itself).
        try await findPairs(all)

        // 3. Puts from random nodes, each got from another random node.
        var generator = SystemRandomNumberGenerator()
        var keys: [Digest32] = []
        let putPhase = ContinuousClock.now
        for round in 0..<Self.puts {
            let value = Array("dht-loopback value \(round) ".utf8) + (0..<48).map { _ in UInt8.random(in: 0...255) }
            let key = Blake2b.hash256(value)
            let putter = all.randomElement(using: &generator)!
            let put = try #require(await DHTLoopbackWait.bounded(.seconds(10)) { await putter.node.dhtPut(value) },
                                   "put \(round) from node \(putter.index) did not finish within 10 s")
            #expect(put.succeeded && put.storedAt >= 1,
                    "put \(round) from node \(putter.index): \(put.failure?.rawValue ?? "ok"), stored at \(put.storedAt)")
            let getter = all.filter { $0.index != putter.index }.randomElement(using: &generator)!
            let get = try #require(await DHTLoopbackWait.bounded(.seconds(10)) { await getter.node.dhtGet(key) },
                                   "get \(round) from node \(getter.index) did not finish within 10 s")
            #expect(get.value == value, "get \(round) from node \(getter.index): \(get.failure?.rawValue ?? "wrong value")")
            keys.append(key)
        }
        print("DHTLoopbackTests: \(Self.puts) puts and gets in \(ContinuousClock.now - putPhase)")

        // 4. Stop every holder of one value but one; the value is still found, then copied again.
        try await reReplication(of: keys[0], nodes: nodes)
    }

    /// Node i (in a random order) looks up the ids of the next `findsPerNode` nodes in that
    /// order, so every node is looked up by `findsPerNode` others and the targets cover every
    /// node; at most `lookupsInFlight` lookups run at once. A miss is retried once (and counted).
    func findPairs(_ all: [DHTLoopbackNode]) async throws {
        let phase = ContinuousClock.now
        var generator = SystemRandomNumberGenerator()
        let order = all.shuffled(using: &generator)
        var jobs: [(DHTLoopbackNode, DHTLoopbackNode)] = []
        for (position, node) in order.enumerated() {
            for step in 1...min(Self.findsPerNode, all.count - 1) {
                jobs.append((node, order[(position + step) % order.count]))
            }
        }
        try #require(Set(jobs.map(\.1.index)).count == all.count, "the lookups' targets cover every node")
        let queue = DHTLoopbackQueue(jobs.shuffled(using: &generator))
        let results = await DHTLoopbackWait.bounded(.seconds(90)) {
            await withTaskGroup(of: (lookups: Int, firstMisses: [String], misses: [String]).self) { group in
                for _ in 0..<Self.lookupsInFlight {
                    group.addTask {
                        var lookups = 0
                        var firstMisses: [String] = []
                        var misses: [String] = []
                        while let (node, target) = queue.next() {
                            var found = false
                            for attempt in 0..<2 where !found {
                                lookups += 1
                                let result = await DHTLoopbackWait.bounded(.seconds(10)) {
                                    await node.node.dhtFindNode(target.id)
                                }
                                found = result?.closest.contains { $0.id == target.id } ?? false
                                if !found && attempt == 0 { firstMisses.append("\(node.index)→\(target.index)") }
                            }
                            if !found { misses.append("\(node.index)→\(target.index)") }
                        }
                        return (lookups, firstMisses, misses)
                    }
                }
                return await group.reduce(into: (0, [String](), [String]())) {
                    $0.0 += $1.lookups
                    $0.1 += $1.firstMisses
                    $0.2 += $1.misses
                }
            }
        }
        let (lookups, firstMisses, misses) = try #require(results, "the FIND_NODE round did not end within 90 s")
        print("DHTLoopbackTests: \(jobs.count) (node, target) pairs, \(lookups) FIND_NODE lookups in "
              + "\(ContinuousClock.now - phase); missed first time: \(firstMisses.count) \(firstMisses.prefix(10)), "
              + "after a retry: \(misses.count)")
        if !misses.isEmpty { print("DHTLoopbackTests: missed targets: " + (await describeTargets(of: misses, all)).joined(separator: "; ")) }
        #expect(misses.isEmpty, "\(misses.count) of \(jobs.count) targets not found: \(misses.prefix(20))")
    }

    /// For each target of a missed lookup ("from→to"): its mode and contacts, how many tables
    /// hold it, and which of the k nodes closest to its id hold it (they are where lookups end).
    func describeTargets(of misses: [String], _ all: [DHTLoopbackNode]) async -> [String] {
        let targets = Set(misses.compactMap { $0.split(separator: "→").last.flatMap { Int($0) } })
        var tables: [Int: Set<NodeID>] = [:]
        for node in all { tables[node.index] = Set(await node.node.dhtContacts.map(\.id)) }
        var lines: [String] = []
        for target in all where targets.contains(target.index) {
            let status = await target.node.dhtStatus()
            let holders = all.filter { tables[$0.index]?.contains(target.id) ?? false }.map(\.index)
            let nearest = all.filter { $0.index != target.index }
                .sorted { $0.id.distance(to: target.id) < $1.id.distance(to: target.id) }.prefix(Self.k)
            lines.append("\(target.index): \(status.mode) \(status.joinState), \(status.contacts) contacts, in "
                         + "\(holders.count) tables \(holders.sorted()); its \(Self.k) nearest "
                         + "\(nearest.map { "\($0.index)\(tables[$0.index]?.contains(target.id) ?? false ? "+" : "-")" })")
        }
        return lines
    }

    /// Stops every holder of `key` but one, gets the value from a node that lacks it, and waits
    /// for a second live copy. A get repairs only nodes nearer the key than the one that answered
    /// with the value, and the survivor is then the nearest live holder, so the get stores nothing
    /// (its `storedAt` is 0, as reported): the copies come from the survivor's republish, which the
    /// test shortens to `republishIntervalMs` (an hour by default).
    func reReplication(of key: Digest32, nodes: DHTLoopbackNodes) async throws {
        let all = nodes.live
        var holders: [DHTLoopbackNode] = []
        for node in all where await node.node.dhtHolds(key) { holders.append(node) }
        try #require(holders.count >= 2, "the value is held by \(holders.count) node(s)")
        // The survivor: the holder farthest from the key among the k nodes closest to it, so the
        // lookups of the get still reach it once the nearer holders are gone.
        let target = NodeID(digest: key)
        let closest = all.sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }.prefix(Self.k)
        let holderIndices = Set(holders.map(\.index))
        let survivor = try #require(closest.last(where: { holderIndices.contains($0.index) }),
                                    "none of the k nodes closest to the key holds it")
        let victims = holders.filter { $0.index != survivor.index }
        let ranks = Dictionary(uniqueKeysWithValues: all.sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }
            .enumerated().map { ($1.index, $0) })
        print("DHTLoopbackTests: key \(key.hex.prefix(12)) held by nodes at distance ranks "
              + "\(holders.map { ranks[$0.index]! }.sorted()); keeping rank \(ranks[survivor.index]!), stopping \(victims.count)")
        let stoppedAll: Void? = await DHTLoopbackWait.bounded(.seconds(15)) {
            await withTaskGroup(of: Void.self) { group in
                for victim in victims { group.addTask { await nodes.stop(victim) } }
            }
        }
        try #require(stoppedAll != nil, "the holders did not stop within 15 s")

        func liveHolders() async -> [Int] {
            var indices: [Int] = []
            for node in nodes.live where await node.node.dhtHolds(key) { indices.append(node.index) }
            return indices
        }
        let afterStop = await liveHolders()
        let stoppedAt = ContinuousClock.now

        var generator = SystemRandomNumberGenerator()
        let getter = nodes.live.filter { $0.index != survivor.index && !afterStop.contains($0.index) }
            .randomElement(using: &generator)!
        let get = try #require(await DHTLoopbackWait.bounded(.seconds(15)) { await getter.node.dhtGet(key) },
                               "the get after the stop did not finish within 15 s")
        #expect(get.value != nil && Blake2b.hash256(get.value ?? []) == key,
                "node \(getter.index) could not get the value from the survivor: \(get.failure?.rawValue ?? "wrong value")")
        let afterGet = await liveHolders()

        var holdersNow = afterGet
        // The survivor's republish lookup may first have to time out on the stopped holders (its
        // nearest contacts) until its table drops them: allow several republish rounds.
        let reReplicated = await DHTLoopbackWait.until(.seconds(30)) {
            holdersNow = await liveHolders()
            return holdersNow.count >= 2
        }
        let mechanism = get.storedAt > 0 ? "the get's repair STOREs" : "the survivor's republish (every \(Self.republishIntervalMs) ms)"
        print("DHTLoopbackTests: live holders after the stop \(afterStop.count), after the get \(afterGet.count) "
              + "(get: \(get.requests) requests, \(get.storedAt) repair stores confirmed, "
              + "\(get.finishedMs - get.startedMs) ms), \(holdersNow.count) within \(ContinuousClock.now - stoppedAt) "
              + "of the stop — re-replicated by \(mechanism)")
        #expect(afterStop == [survivor.index], "only the survivor holds the value after the stop: \(afterStop)")
        #expect(reReplicated, "the value is held by \(holdersNow.count) live node(s) 30 s after the get, not ≥ 2")
    }
}

// MARK: - nodes

/// One node: the real `Node` actor on an event loop of the NIO singleton group, on its own UDP socket.
final class DHTLoopbackNode: Sendable {
    private final class Flag: Sendable { let stopped = Mutex(false) }

    let index: Int
    let id: NodeID
    let node: Node
    let udp: UDPTransport
    private let flag = Flag()
    private let runner: Task<Void, Never>

    init(index: Int, options: Node.Options) async throws {
        self.index = index
        id = options.identity.publicKey.nodeID
        udp = try await UDPTransport.bind(DHTLoopbackTests.address(index))
        var logger = Logger(label: "dht-loopback.\(index)")
        logger.logLevel = .error
        let node = Node(options: options, transport: udp, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: logger,
                        executor: udp.eventLoop.executor)
        self.node = node
        let flag = flag
        runner = Task {
            await node.run()
            flag.stopped.withLock { $0 = true }
        }
    }

    var address: PeerAddress { udp.localAddress }
    var isStopped: Bool { flag.stopped.withLock { $0 } }

    /// Closes the socket (which ends `run()`) and waits at most 5 s for the node to stop.
    func stop() async {
        await udp.close()
        if await !DHTLoopbackWait.until(.seconds(5), { self.isStopped }) {
            Issue.record("node \(index) did not stop within 5 s of its socket closing")
            runner.cancel()
        }
    }
}

/// (node, target) pairs handed to the lookup workers.
final class DHTLoopbackQueue: Sendable {
    private let jobs: Mutex<ArraySlice<(DHTLoopbackNode, DHTLoopbackNode)>>
    init(_ jobs: [(DHTLoopbackNode, DHTLoopbackNode)]) { self.jobs = Mutex(jobs[...]) }
    func next() -> (DHTLoopbackNode, DHTLoopbackNode)? { jobs.withLock { $0.popFirst() } }
}

/// The nodes started so far; stopped ones leave `live`.
final class DHTLoopbackNodes: Sendable {
    private let nodes = Mutex<[DHTLoopbackNode]>([])

    var live: [DHTLoopbackNode] { nodes.withLock { $0 } }

    func add(_ node: DHTLoopbackNode) { nodes.withLock { $0.append(node) } }

    func stop(_ node: DHTLoopbackNode) async {
        nodes.withLock { $0.removeAll { $0.index == node.index } }
        await node.stop()
    }

    func stopAll() async {
        let all = nodes.withLock { nodes in
            defer { nodes = [] }
            return nodes
        }
        await withTaskGroup(of: Void.self) { group in
            for node in all { group.addTask { await node.stop() } }
        }
    }
}

// MARK: - bounded waiting


/// Bounded waiting for the DHT loopback suite: every await there has its own deadline.
enum DHTLoopbackWait {
    /// `body`'s result, or nil when `limit` passes first (the body then runs on, unawaited).
    static func bounded<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> Value) async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            let first = FirstOf(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                first.resume(nil)
            }
            Task {
                let value = await body()
                first.resume(value)
                timer.cancel()
            }
        }
    }

    /// Polls `condition` every 20 ms until it holds or `limit` passes; returns its last value.
    static func until(_ limit: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}
