import Logging
import Metrics
import NIOCore
import NIOPosix
import PRSMNode
@testable import PRSMTransportNIO

/// A node on a real UDP socket (and, with `streams`, a TCP listener on the same address),
/// running until `stop()`.
final class LiveNode: Sendable {
    let node: Node
    let transport: UDPTransport
    let streams: TCPStreamTransport?
    let key: SigningKey
    private let runner: Task<Void, Never>

    init(address: PeerAddress, key: SigningKey = .generate(), genesis: Genesis = Devnet.genesis, streams: Bool = false,
         configure: (inout Node.Options) -> Void = { _ in }) async throws {
        transport = try await UDPTransport.bind(address)
        self.streams = streams ? try await TCPStreamTransport.listen(transport.localAddress) : nil
        var options = Node.Options(identity: key, genesis: genesis)
        options.joinDHT = false
        configure(&options)
        var logger = Logger(label: "test.node")
        logger.logLevel = .error
        self.key = key
        let node = Node(options: options, transport: transport, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: logger,
                        executor: transport.eventLoop.executor, streams: self.streams)
        self.node = node
        runner = Task { await node.run() }
    }

    var address: PeerAddress { transport.localAddress }

    /// Pings and waits for this nonce's answer or timeout (the node's ping timeout bounds it).
    func ping(_ target: PeerAddress) async -> PingReply? {
        var events = node.events.makeAsyncIterator()
        let nonce = await node.ping(target)
        while let event = await events.next() {
            switch event {
            case let .pingAnswered(reply) where reply.nonce == nonce: return reply
            case let .pingTimedOut(timedOut, _) where timedOut == nonce: return nil
            default: continue
            }
        }
        return nil
    }

    func stop() async {
        await transport.close()
        await streams?.close()
        await runner.value
    }
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass.
func eventually(seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
