import Logging
import NIOCore
import NIOPosix
import PRSMNode
import Synchronization

/// Length-framed envelopes over TCP with SwiftNIO: bounded frames, idle timeouts, and a cap on
/// concurrent inbound connections (more are closed at once).
///
/// Accepted connections are handed to `serve` as plain channels with reads off and are wrapped in
/// `NIOAsyncChannel` only there: an async child channel that is accepted while the listener shuts
/// down is dropped unserved and traps in `NIOAsyncWriter`'s deinit (swift-nio issue 2813).
public final class TCPStreamTransport: StreamTransport {
    public struct Options: Sendable {
        public var maxFrameSize = Envelope.maxFrameSize
        public var idleTimeoutMs: Int64 = 30_000
        public var connectTimeoutMs: Int64 = 5_000
        public var maxInboundConnections = 256
        public init() {}
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    public let localAddress: PeerAddress
    private let options: Options
    private let group: any EventLoopGroup
    private let server: NIOAsyncChannel<any Channel, Never>

    private init(server: NIOAsyncChannel<any Channel, Never>, localAddress: PeerAddress, options: Options,
                 group: any EventLoopGroup) {
        self.server = server
        self.localAddress = localAddress
        self.options = options
        self.group = group
    }

    public static func listen(
        _ address: PeerAddress, options: Options = Options(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TCPStreamTransport {
        let server: NIOAsyncChannel<any Channel, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // No bytes are read (and lost) before `serve` wraps the channel and turns reads on.
                .childChannelOption(.autoRead, value: false)
                .bind(to: address.socketAddress) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try addHandlers(channel, options: options)
                        return channel
                    }
                }
        } catch {
            throw TransportError.bindFailed(address.description, "\(error)")
        }
        guard let local = server.channel.localAddress.flatMap(PeerAddress.init) else {
            throw TransportError.notIP("\(String(describing: server.channel.localAddress))")
        }
        return TCPStreamTransport(server: server, localAddress: local, options: options, group: group)
    }

    /// Framing and idle handling; the idle timeout also closes accepted channels `serve` never took.
    static func addHandlers(_ channel: any Channel, options: Options) throws {
        let idle = TimeAmount.milliseconds(options.idleTimeoutMs)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(allTimeout: idle),
            IdleCloser(),
            ByteToMessageHandler(FrameDecoder(maxFrameSize: options.maxFrameSize)),
            MessageToByteHandler(FrameEncoder(maxFrameSize: options.maxFrameSize)),
        ])
    }

    static func configure(_ channel: any Channel, options: Options) throws -> Connection {
        try addHandlers(channel, options: options)
        return try Connection(wrappingChannelSynchronously: channel)
    }

    /// Takes ownership of an accepted channel: wraps it, then starts reading.
    static func adopt(_ channel: any Channel) async throws -> Connection {
        try await channel.eventLoop.submit {
            let connection = try Connection(wrappingChannelSynchronously: channel)
            try channel.syncOptions?.setOption(.autoRead, value: true)
            return connection
        }.get()
    }

    public func serve(_ handler: @escaping @Sendable (any FramedStream) async -> Void) async {
        let limit = options.maxInboundConnections
        let options = options
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    let active = ActiveCount()
                    for try await channel in inbound {
                        guard active.tryEnter(limit: limit) else {
                            try? await channel.close()
                            continue
                        }
                        group.addTask {
                            defer { active.leave() }
                            guard let connection = try? await Self.adopt(channel) else {
                                try? await channel.close()
                                return
                            }
                            await Self.run(connection, maxFrameSize: options.maxFrameSize, handler)
                        }
                    }
                }
            }
        } catch {
            // The listener closed (shutdown) or the task was cancelled.
        }
    }

    static func run(
        _ connection: Connection, maxFrameSize: Int, _ handler: @Sendable (any FramedStream) async -> Void
    ) async {
        guard let remote = connection.channel.remoteAddress.flatMap(PeerAddress.init) else {
            try? await connection.channel.close()
            return
        }
        try? await connection.executeThenClose { inbound, outbound in
            await handler(TCPFramedStream(remoteAddress: remote, maxFrameSize: maxFrameSize,
                                          inbound: inbound, outbound: outbound))
        }
    }

    public func withStream<Result: Sendable>(
        to address: PeerAddress, _ body: (any FramedStream) async throws -> Result
    ) async throws -> Result {
        let options = options
        let connection: Connection
        do {
            connection = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(options.connectTimeoutMs))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(to: address.socketAddress) { channel in
                    channel.eventLoop.makeCompletedFuture { try Self.configure(channel, options: options) }
                }
        } catch {
            throw TransportError.connectFailed(address.description, "\(error)")
        }
        return try await connection.executeThenClose { inbound, outbound in
            try await body(TCPFramedStream(remoteAddress: address, maxFrameSize: options.maxFrameSize,
                                           inbound: inbound, outbound: outbound))
        }
    }

    public func close() async {
        try? await server.channel.close()
    }
}

/// Counts live inbound connections; touched from the accept loop and connection tasks.
final class ActiveCount: Sendable {
    private let count = Mutex(0)

    func tryEnter(limit: Int) -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}
