import Logging
import NIOCore
import NIOPosix
import PRSMNode
import Synchronization

/// Length-framed envelopes over TCP with SwiftNIO: bounded frames, idle timeouts, and a cap on
/// concurrent inbound connections (more are closed at once).
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
    private let server: NIOAsyncChannel<Connection, Never>

    private init(server: NIOAsyncChannel<Connection, Never>, localAddress: PeerAddress, options: Options,
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
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(to: address.socketAddress) { channel in
                    channel.eventLoop.makeCompletedFuture { try configure(channel, options: options) }
                }
        } catch {
            throw TransportError.bindFailed(address.description, "\(error)")
        }
        guard let local = server.channel.localAddress.flatMap(PeerAddress.init) else {
            throw TransportError.notIP("\(String(describing: server.channel.localAddress))")
        }
        return TCPStreamTransport(server: server, localAddress: local, options: options, group: group)
    }

    static func configure(_ channel: any Channel, options: Options) throws -> Connection {
        let idle = TimeAmount.milliseconds(options.idleTimeoutMs)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(allTimeout: idle),
            IdleCloser(),
            ByteToMessageHandler(FrameDecoder(maxFrameSize: options.maxFrameSize)),
            MessageToByteHandler(FrameEncoder(maxFrameSize: options.maxFrameSize)),
        ])
        return try Connection(wrappingChannelSynchronously: channel)
    }

    public func serve(_ handler: @escaping @Sendable (any FramedStream) async -> Void) async {
        let limit = options.maxInboundConnections
        let options = options
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    let active = ActiveCount()
                    for try await connection in inbound {
                        guard active.tryEnter(limit: limit) else {
                            try? await connection.channel.close()
                            continue
                        }
                        group.addTask {
                            defer { active.leave() }
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
