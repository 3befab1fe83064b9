import Foundation
import Logging
import Metrics
import NIOPosix
import PRSMNode
import PRSMTransportNIO
import Synchronization

/// `prsm-sim bench dht-loopback`: real `Node` actors on real UDP sockets in one process, each on
/// its own 127.X.Y.1 (a /24 per node), all joining through one seed in spread batches. Then puts
/// from random nodes and gets of those keys from random nodes that do not hold them, one at a time
/// and `concurrency` at a time, timed by the wall clock. Kernel counters tell whether datagrams
/// were dropped.
public struct DHTLoopbackBench: Sendable {
    public var nodeCounts: [Int] = [50, 500]
    public var k = 20
    public var puts = 50
    /// Gets run one at a time.
    public var sequentialGets = 200
    /// Gets run `concurrency` at a time.
    public var concurrentGets = 640
    public var concurrency = 32
    /// Nodes started together after the seed; the next batch starts `joinGapMs` later, once
    /// the previous one joined.
    public var joinBatch = 10
    public var joinGapMs: UInt64 = 100
    /// How long a batch may take to join before the next starts anyway.
    public var batchJoinWaitSeconds = 30
    /// How long every node has to report joined once the last batch started.
    public var joinDeadlineSeconds = 120
    /// Seconds the joined nodes idle before the first put (upkeep CPU measured over the last 2).
    public var settleSeconds = 2
    /// Any operation not finished within this counts as failed.
    public var operationDeadlineSeconds = 30
    /// Addresses are 127.(firstOctet + i / 250).(1 + i % 250).1.
    public var firstOctet: UInt8 = 41

    public init() {}

    public enum Failure: Error, CustomStringConvertible {
        case bind(Int, String)
        public var description: String {
            switch self {
            case let .bind(index, error):
                return "cannot bind node \(index)'s socket: \(error) (descriptor or address limits?)"
            }
        }
    }

    public func run() async throws -> BenchReport {
        var rows: [JSONValue] = []
        for count in nodeCounts { rows.append(try await runOnce(count)) }
        return BenchReport(bench: "dht-loopback", params: [
            "nodes": .array(nodeCounts.map { .int($0) }), "k": .int(k), "puts": .int(puts),
            "sequential_gets": .int(sequentialGets), "concurrent_gets": .int(concurrentGets),
            "concurrency": .int(concurrency), "settle_seconds": .int(settleSeconds), "join_batch": .int(joinBatch), "join_gap_ms": .int(Int(joinGapMs)),
            "join_pacing": .string("next batch once the previous joined (≤ \(batchJoinWaitSeconds) s)"),
            "transport": .string("UDP on 127.X.Y.1, one process, NIO singleton event loops"),
        ], results: ["runs": .array(rows)])
    }

    // MARK: one run

    func runOnce(_ count: Int) async throws -> JSONValue {
        let crypto = CryptoCounts()
        let rssBefore = SimScaleBench.residentBytes()
        let snmpBefore = KernelUDP.snmp()
        let started = ContinuousClock.now
        let joining = try await startNodes(count, crypto: crypto)
        let all = joining.nodes
        let joined = joining.joinedAt.count
        let joinStart = all.count > 1 ? all[1].started : started
        let joinSeconds = Self.seconds(joining.finished - joinStart)
        let startSeconds = Self.seconds((all.last?.started ?? started) - joinStart)
        let joinLatencies = joining.joinedAt.map { Self.milliseconds($0.value - all[$0.key].started) }

        // Upkeep alone (pings, refreshes, lookups that confirm joins, timers): the nodes idle
        // `settleSeconds`, the CPU they use over the last (up to) 2 is measured.
        let measured = min(settleSeconds, 2)
        try? await Task.sleep(for: .seconds(settleSeconds - measured))
        let idleCPUStart = SimScaleBench.processCPUSeconds()
        let idleStart = ContinuousClock.now
        try? await Task.sleep(for: .seconds(measured))
        let idleCores = (SimScaleBench.processCPUSeconds() - idleCPUStart) / Self.seconds(ContinuousClock.now - idleStart)

        // Puts, one at a time, from random nodes.
        var generator = SystemRandomNumberGenerator()
        var values: [(key: Digest32, value: [UInt8])] = []
        var putLatencies: [Double] = []
        var putsSucceeded = 0
        var storedAt = 0
        for round in 0..<puts {
            let value = Array("dht-loopback \(count) \(round) ".utf8) + (0..<64).map { _ in UInt8.random(in: 0...255) }
            let putter = all.randomElement(using: &generator)!
            let begin = ContinuousClock.now
            let result = await Self.bounded(.seconds(operationDeadlineSeconds)) { await putter.node.dhtPut(value) }
            putLatencies.append(Self.milliseconds(ContinuousClock.now - begin))
            if let result, result.succeeded {
                putsSucceeded += 1
                storedAt += result.storedAt
            }
            values.append((Blake2b.hash256(value), value))
        }

        // Gets by nodes that do not hold the key (a holder answers from its own store).
        func pickGet(_ generator: inout SystemRandomNumberGenerator) async -> (BenchNode, Digest32, [UInt8]) {
            let (key, value) = values.randomElement(using: &generator)!
            for _ in 0..<20 {
                let getter = all.randomElement(using: &generator)!
                if await !getter.node.dhtHolds(key) { return (getter, key, value) }
            }
            return (all.randomElement(using: &generator)!, key, value)
        }
        var sequential: [GetSample] = []
        let sequentialStart = ContinuousClock.now
        let sequentialCPUStart = SimScaleBench.processCPUSeconds()
        let cryptoStart = crypto.snapshot
        for _ in 0..<(values.isEmpty ? 0 : sequentialGets) {
            let (getter, key, value) = await pickGet(&generator)
            sequential.append(await Self.timedGet(getter, key, value, deadline: .seconds(operationDeadlineSeconds)))
        }
        let sequentialWall = Self.seconds(ContinuousClock.now - sequentialStart)
        let sequentialCPU = SimScaleBench.processCPUSeconds() - sequentialCPUStart
        let cryptoEnd = crypto.snapshot
        func perGet(_ count: Int) -> JSONValue { .double(sequential.isEmpty ? 0 : Double(count) / Double(sequential.count)) }

        var jobs: [(BenchNode, Digest32, [UInt8])] = []
        for _ in 0..<(values.isEmpty ? 0 : concurrentGets) { jobs.append(await pickGet(&generator)) }
        let queue = JobQueue(jobs)
        let concurrentStart = ContinuousClock.now
        let deadline = Duration.seconds(operationDeadlineSeconds)
        let concurrent = await withTaskGroup(of: [GetSample].self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    var samples: [GetSample] = []
                    while let (getter, key, value) = queue.next() {
                        samples.append(await Self.timedGet(getter, key, value, deadline: deadline))
                    }
                    return samples
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let concurrentWall = Self.seconds(ContinuousClock.now - concurrentStart)

        // Counters, then shutdown.
        var pipelineDrops: [String: UInt64] = [:]
        var accepted: UInt64 = 0
        for node in all {
            let counters = await node.node.dropCounters
            accepted += counters.accepted
            for (reason, dropped) in counters.byReason where dropped > 0 { pipelineDrops[reason, default: 0] += dropped }
        }
        let socketDrops = KernelUDP.socketDrops(all.map(\.address))
        let snmpAfter = KernelUDP.snmp()
        let descriptors = KernelUDP.openDescriptors()
        let peak = SimScaleBench.peakResidentBytes()
        await Self.stop(all)

        let gets = sequential + concurrent
        let found = gets.filter(\.correct).count
        var row: [String: JSONValue] = [
            "nodes": .int(count),
            "joined": .int(joined),
            "join_seconds": .double(joinSeconds),
            "join_start_spread_seconds": .double(startSeconds),
            "join_latency_ms": Self.percentiles(joinLatencies),
            "put_latency_ms": Self.percentiles(putLatencies),
            "puts_succeeded": .int(putsSucceeded),
            "stored_at_mean": .double(putsSucceeded == 0 ? 0 : Double(storedAt) / Double(putsSucceeded)),
            "get_latency_ms": Self.percentiles(sequential.map(\.milliseconds)),
            "get_latency_ms_guarded": Self.percentiles(sequential.map(\.guardedMilliseconds)),
            "get_latency_ms_conc": Self.percentiles(concurrent.map(\.milliseconds)),
            "gets_per_s_seq": .double(sequentialWall > 0 ? Double(sequential.count) / sequentialWall : 0),
            "gets_per_s_conc": .double(concurrentWall > 0 ? Double(concurrent.count) / concurrentWall : 0),
            // Process CPU per sequential get (getter, responders, upkeep): near the get's
            // latency × cores means the machine, not the protocol's round trips, sets the pace.
            "cpu_ms_per_get_seq": .double(sequential.isEmpty ? 0 : sequentialCPU * 1_000 / Double(sequential.count)),
            "idle_cpu_cores": .double(idleCores),
            // Ed25519 work per sequential get over all nodes (the getter, its responders, and
            // whatever upkeep ran meanwhile): the largest part of its CPU.
            "signs_per_get_seq": perGet(cryptoEnd.signs - cryptoStart.signs),
            "verifies_per_get_seq": perGet(cryptoEnd.verifies - cryptoStart.verifies),
            "gets": .int(gets.count),
            "success_rate": .double(gets.isEmpty ? 0 : Double(found) / Double(gets.count)),
            "rpcs_per_get": .double(gets.isEmpty ? 0 : Double(gets.map(\.requests).reduce(0, +)) / Double(gets.count)),
            "hops_per_get": .double(gets.isEmpty ? 0 : Double(gets.map(\.hops).reduce(0, +)) / Double(gets.count)),
            "datagrams_accepted": .int(Int(accepted)),
            "pipeline_drops": .object(pipelineDrops.mapValues { .int(Int($0)) }),
            "open_descriptors": .int(descriptors),
            "peak_rss_bytes": .int(peak),
            "rss_bytes_per_node": .int(max(0, peak - rssBefore) / count),
            "wall_seconds": .double(Self.seconds(ContinuousClock.now - started)),
        ]
        if let socketDrops { row["socket_drops"] = .int(socketDrops) }
        if let before = snmpBefore, let after = snmpAfter {
            row["udp_rcvbuf_errors"] = .int(after.rcvbufErrors - before.rcvbufErrors)
            row["udp_in_errors"] = .int(after.inErrors - before.inErrors)
        }
        return .object(row)
    }

    struct Joining {
        let nodes: [BenchNode]
        /// When each node (by index) was first seen joined.
        let joinedAt: [Int: ContinuousClock.Instant]
        /// When the last node was seen joined (or the wait gave up).
        let finished: ContinuousClock.Instant
    }

    /// The seed, then the rest through it, `joinBatch` at a time: the next batch starts once
    /// every node of the previous one reports joined (at most `batchJoinWaitSeconds` later) and
    /// `joinGapMs` passed, so the machine is never flooded by joins it cannot keep up with.
    func startNodes(_ count: Int, crypto: CryptoCounts) async throws -> Joining {
        var nodes: [BenchNode] = []
        var joinedAt: [Int: ContinuousClock.Instant] = [:]
        func start(_ index: Int, bootstrap: [PeerAddress]) async throws {
            var options = Node.Options(identity: .generate(), genesis: Devnet.genesis)
            options.bootstrap = bootstrap
            options.dht.routing.k = k
            options.dht.lookup.k = k
            options.cpu = crypto.count
            let address = PeerAddress.ipv4(127, firstOctet + UInt8(index / 250), UInt8(1 + index % 250), 1, port: 0)
            do {
                nodes.append(try await BenchNode(options: options, address: address))
            } catch {
                await Self.stop(nodes)
                throw Failure.bind(index, "\(error)")
            }
        }
        /// Polls the nodes in `indices` not yet seen joined until all are or `limit` passes.
        func awaitJoins(_ indices: Range<Int>, within limit: Duration) async {
            let deadline = ContinuousClock.now + limit
            while true {
                // The seed too, without waiting for it: it joins once joiners filled its table.
                for index in [0] + Array(indices) where joinedAt[index] == nil {
                    if await nodes[index].node.dhtJoinState == .joined { joinedAt[index] = .now }
                }
                if indices.allSatisfy({ joinedAt[$0] != nil }) || ContinuousClock.now >= deadline { return }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        try await start(0, bootstrap: [])
        let seed = nodes[0].address
        for batch in stride(from: 1, to: count, by: max(1, joinBatch)) {
            let indices = batch..<min(batch + max(1, joinBatch), count)
            for index in indices { try await start(index, bootstrap: [seed]) }
            try? await Task.sleep(for: .milliseconds(joinGapMs))
            await awaitJoins(indices, within: .seconds(batchJoinWaitSeconds))
        }
        // Everyone, the seed included (it joins once joiners filled its table).
        await awaitJoins(0..<count, within: .seconds(joinDeadlineSeconds))
        let finished = joinedAt.count == count ? joinedAt.values.max()! : ContinuousClock.now
        return Joining(nodes: nodes, joinedAt: joinedAt, finished: finished)
    }

    // MARK: helpers

    struct GetSample: Sendable {
        let milliseconds: Double
        /// Including the timeout guard's two task hops (how this bench timed gets until stop 17).
        let guardedMilliseconds: Double
        let correct: Bool
        let requests: Int
        let hops: Int
    }

    /// One get, timed inside the task that calls the node, around the call: the caller's view,
    /// without the task hops of the timeout guard around it (a get past `deadline` counts as
    /// failed, timed at the deadline).
    static func timedGet(_ getter: BenchNode, _ key: Digest32, _ value: [UInt8], deadline: Duration) async -> GetSample {
        let outerBegin = ContinuousClock.now
        let timed = await bounded(deadline) { () async -> (DHTResult, Duration) in
            let begin = ContinuousClock.now
            let result = await getter.node.dhtGet(key)
            return (result, ContinuousClock.now - begin)
        }
        let result = timed?.0
        return GetSample(milliseconds: milliseconds(timed?.1 ?? deadline),
                         guardedMilliseconds: milliseconds(ContinuousClock.now - outerBegin),
                         correct: result?.value == value, requests: result?.requests ?? 0, hops: result?.hops ?? 0)
    }

    static func stop(_ nodes: [BenchNode]) async {
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.stop() } }
        }
    }

    static func percentiles(_ samples: [Double]) -> JSONValue {
        let sorted = samples.sorted()
        func at(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
        }
        return .object(["p50": .double(at(0.5)), "p99": .double(at(0.99)), "max": .double(sorted.last ?? 0),
                        "samples": .int(sorted.count)])
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1_000 }

    /// Evaluates `measure` every 50 ms until `done` holds of it or `limit` passes; the last value.
    static func poll<T>(_ limit: Duration, _ measure: () async -> T, until done: (T) -> Bool) async -> T {
        let deadline = ContinuousClock.now + limit
        var value = await measure()
        while !done(value), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            value = await measure()
        }
        return value
    }

    /// `body`'s result, or nil when `limit` passes first.
    static func bounded<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> Value) async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            let once = FirstOf(continuation)
            let timer = Task {
                try? await Task.sleep(for: limit)
                once.resume(nil)
            }
            Task {
                once.resume(await body())
                timer.cancel()
            }
        }
    }

    /// Signatures made and checked by every node of a run.
    final class CryptoCounts: Sendable {
        private let signs = Atomic<Int>(0)
        private let verifies = Atomic<Int>(0)

        var snapshot: (signs: Int, verifies: Int) { (signs.load(ordering: .relaxed), verifies.load(ordering: .relaxed)) }

        @Sendable func count(_ work: CPUWork) {
            switch work {
            case .sign: signs.add(1, ordering: .relaxed)
            case .verify: verifies.add(1, ordering: .relaxed)
            case .bytes: break
            }
        }
    }

    final class JobQueue: Sendable {
        private let jobs: Mutex<ArraySlice<(BenchNode, Digest32, [UInt8])>>
        init(_ jobs: [(BenchNode, Digest32, [UInt8])]) { self.jobs = Mutex(jobs[...]) }
        func next() -> (BenchNode, Digest32, [UInt8])? { jobs.withLock { $0.popFirst() } }
    }

}

/// One node of the bench on its own socket, on an event loop of the NIO singleton group.
final class BenchNode: Sendable {
    private final class Flag: Sendable { let stopped = Mutex(false) }

    let node: Node
    let udp: UDPTransport
    let started = ContinuousClock.now
    private let flag = Flag()

    init(options: Node.Options, address: PeerAddress) async throws {
        udp = try await UDPTransport.bind(address)
        var logger = Logger(label: "dht-loopback")
        logger.logLevel = .error
        let node = Node(options: options, transport: udp, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: logger,
                        executor: udp.eventLoop.executor)
        self.node = node
        let flag = flag
        Task {
            await node.run()
            flag.stopped.withLock { $0 = true }
        }
    }

    var address: PeerAddress { udp.localAddress }

    /// Closes the socket, which ends `run()`; waits at most 5 s for that.
    func stop() async {
        await udp.close()
        _ = await DHTLoopbackBench.poll(.seconds(5), { self.flag.stopped.withLock { $0 } }, until: { $0 })
    }
}

/// Kernel UDP counters (Linux /proc; nil elsewhere).
public enum KernelUDP {
    public struct Snmp: Sendable {
        public let inErrors: Int
        public let rcvbufErrors: Int
    }

    /// Host-wide UDP counters from /proc/net/snmp (all sockets, not only ours).
    public static func snmp() -> Snmp? {
        guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
        guard lines.count >= 2 else { return nil }
        let names = lines[0].split(separator: " ").dropFirst().map(String.init)
        let values = lines[1].split(separator: " ").dropFirst().compactMap { Int($0) }
        guard names.count == values.count else { return nil }
        let fields = Dictionary(uniqueKeysWithValues: zip(names, values))
        guard let inErrors = fields["InErrors"], let rcvbuf = fields["RcvbufErrors"] else { return nil }
        return Snmp(inErrors: inErrors, rcvbufErrors: rcvbuf)
    }

    /// The drops the kernel counted on these IPv4 sockets (last column of /proc/net/udp).
    static func socketDrops(_ addresses: [PeerAddress]) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8) else { return nil }
        let wanted = Set(addresses.filter { $0.hostBytes.count == 4 }.map { address -> String in
            address.hostBytes.reversed().map { String(format: "%02X", $0) }.joined() + String(format: ":%04X", address.port)
        })
        var drops = 0
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 13, wanted.contains(String(fields[1])) else { continue }
            drops += Int(fields[fields.count - 1]) ?? 0
        }
        return drops
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}

/// Resumes a continuation with the first of several racing outcomes (a result, a timeout); the
/// rest are ignored. Shared by the loopback bench and the loopback tests.
public final class FirstOf<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value?, Never>?>

    public init(_ continuation: CheckedContinuation<Value?, Never>) { self.continuation = Mutex(continuation) }

    public func resume(_ value: Value?) {
        let waiting = continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(returning: value)
    }
}
