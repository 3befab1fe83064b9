import Logging
import Metrics
import NIOCore
import NIOPosix
import PRSMNode
import PRSMTransportNIO
import Synchronization
import Testing

/// One incarnation of a topology node: the real `Node` actor on an event loop, on its own UDP
/// socket, behind a `FaultInjectingTransport`. It runs until `stop()`; a restart is a new one.
final class LoopbackNode: Sendable {
    enum PingOutcome: Equatable, Sendable {
        case answered(PingReply)
        /// The node gave up on the Ping (its `pingTimeoutMs` passed).
        case timedOut
        /// Neither within the test's wait.
        case noVerdict
    }

    /// Ping outcomes by nonce, filled by the single consumer of `node.events`.
    private final class Outcomes: Sendable {
        let byNonce = Mutex<[UInt64: PingOutcome]>([:])
        let stopped = Mutex(false)
    }

    let index: Int
    let name: String
    let key: SigningKey
    let node: Node
    let udp: UDPTransport
    let faults: FaultInjectingTransport
    private let outcomes = Outcomes()
    private let runner: Task<Void, Never>
    private let pump: Task<Void, Never>

    init(index: Int, name: String, key: SigningKey, address: PeerAddress, options base: Node.Options,
         clock: SkewedClock, ledger: AcceptanceLedger, driver: (any TaskExecutor)?) async throws {
        self.index = index
        self.name = name
        self.key = key
        udp = try await UDPTransport.bind(address)
        faults = FaultInjectingTransport(wrapping: udp)
        var options = base
        options.identity = key
        options.observer = { observation in ledger.observe(observation, receiver: index, nowMs: clock.nowMs) }
        var logger = Logger(label: "loopback.\(name)")
        logger.logLevel = .error
        let node = Node(options: options, transport: faults, clock: clock, random: SystemRandom(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: logger,
                        executor: udp.eventLoop.executor)
        self.node = node
        let outcomes = outcomes
        runner = Task(executorPreference: driver) {
            await node.run()
            outcomes.stopped.withLock { $0 = true }
        }
        // `events` is one stream: a single consumer files every outcome under its nonce.
        pump = Task(executorPreference: driver) {
            for await event in node.events {
                switch event {
                case let .pingAnswered(reply): outcomes.byNonce.withLock { $0[reply.nonce] = .answered(reply) }
                case let .pingTimedOut(nonce, _): outcomes.byNonce.withLock { $0[nonce] = .timedOut }
                default: break
                }
            }
        }
    }

    var address: PeerAddress { udp.localAddress }

    /// Sends a Ping; its outcome is collected by `outcome(of:within:)` or `answer(to:)`.
    func sendPing(_ target: PeerAddress) async -> UInt64 { await node.ping(target) }

    /// The Pong to `nonce`, if it has arrived.
    func answer(to nonce: UInt64) -> PingReply? {
        guard case let .answered(reply)? = outcomes.byNonce.withLock({ $0[nonce] }) else { return nil }
        return reply
    }

    /// Waits at most `limit` for the node's verdict on the Ping with `nonce`.
    func outcome(of nonce: UInt64, within limit: Duration) async -> PingOutcome {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let outcome = outcomes.byNonce.withLock({ $0[nonce] }) { return outcome }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return outcomes.byNonce.withLock { $0[nonce] } ?? .noVerdict
    }

    func ping(_ target: PeerAddress, within limit: Duration) async -> PingOutcome {
        await outcome(of: await sendPing(target), within: limit)
    }

    /// Closes the socket and waits (bounded) for the node to stop, as a crash or shutdown.
    func stop() async {
        await udp.close()
        let stopped = await waitUntil(.seconds(5)) { self.outcomes.stopped.withLock { $0 } }
        if !stopped {
            Issue.record("node \(name) did not stop within 5 s of its socket closing")
            runner.cancel()
            pump.cancel()
        }
    }
}

/// Polls `condition` every 5 ms until it holds or `limit` passes; returns its last value.
func waitUntil(_ limit: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
