import Logging
import NIOCore
import NIOPosix
import PRSMNode

/// UDP datagrams with SwiftNIO. Reads are batched with recvmmsg (`vectorReads` datagrams per
/// system call) and handed on as one batch per read cycle; each slot is `Envelope.maxDatagramSize + 1` bytes so a larger datagram arrives
/// one byte over the limit and is counted as too large instead of being silently truncated.
public final class UDPTransport: DatagramTransport {
    public struct Options: Sendable {
        public var maxDatagramSize = Envelope.maxDatagramSize
        public var vectorReads = 32
        /// Kernel receive buffer (SO_RCVBUF) so bursts wait in the socket, not on the floor.
        public var receiveBufferBytes = 4 * 1024 * 1024
        public init() {}
    }

    public let localAddress: PeerAddress
    private let channel: NIOAsyncChannel<[AddressedEnvelope<ByteBuffer>], AddressedEnvelope<ByteBuffer>>

    private init(channel: NIOAsyncChannel<[AddressedEnvelope<ByteBuffer>], AddressedEnvelope<ByteBuffer>>,
                 localAddress: PeerAddress) {
        self.channel = channel
        self.localAddress = localAddress
    }

    /// Binds `address` (port 0 picks a free port; `localAddress` reports it).
    public static func bind(
        _ address: PeerAddress, options: Options = Options(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> UDPTransport {
        let slot = options.maxDatagramSize + 1
        let channel: NIOAsyncChannel<[AddressedEnvelope<ByteBuffer>], AddressedEnvelope<ByteBuffer>>
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.receiveBufferBytes))
                .channelOption(.datagramVectorReadMessageCount, value: options.vectorReads)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: slot * options.vectorReads))
                .channelOption(.maxMessagesPerRead, value: 4)
                .bind(to: address.socketAddress) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramBatcher())
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(
                            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16)))
                    }
                }
        } catch {
            throw TransportError.bindFailed(address.description, "\(error)")
        }
        guard let local = channel.channel.localAddress.flatMap(PeerAddress.init) else {
            throw TransportError.notIP("\(String(describing: channel.channel.localAddress))")
        }
        return UDPTransport(channel: channel, localAddress: local)
    }

    /// The event loop the socket lives on. A node whose actor runs here reads and writes its
    /// datagrams without a thread hop each way.
    public var eventLoop: any EventLoop { channel.channel.eventLoop }

    public func send(_ bytes: ByteBuffer, to address: PeerAddress) {
        // The async channel's handler is inbound-only: writes go straight to the socket.
        channel.channel.writeAndFlush(AddressedEnvelope(remoteAddress: address.socketAddress, data: bytes),
                                      promise: nil)
    }

    public func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async {
        do {
            try await channel.executeThenClose { inbound, _ in
                for try await batch in inbound {
                    await handler(batch.compactMap { envelope in
                        PeerAddress(envelope.remoteAddress).map { InboundDatagram(bytes: envelope.data, source: $0) }
                    })
                }
            }
        } catch {
            // Closing the channel (shutdown) or cancellation ends delivery; nothing to report.
        }
    }

    public func close() async {
        try? await channel.channel.close()
    }

    /// Starts closing without waiting (for shutdown handlers that cannot await).
    public func shutdown() {
        channel.channel.close(promise: nil)
    }
}
