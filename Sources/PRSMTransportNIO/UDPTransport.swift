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

    typealias Inbound = NIOAsyncChannel<[AddressedEnvelope<ByteBuffer>], AddressedEnvelope<ByteBuffer>>

    public let localAddress: PeerAddress
    private let channel: Inbound
    private let inline: NIOLoopBound<InlineDelivery>

    private init(channel: Inbound, inline: NIOLoopBound<InlineDelivery>, localAddress: PeerAddress) {
        self.channel = channel
        self.inline = inline
        self.localAddress = localAddress
    }

    /// Binds `address` (port 0 picks a free port; `localAddress` reports it).
    public static func bind(
        _ address: PeerAddress, options: Options = Options(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> UDPTransport {
        let slot = options.maxDatagramSize + 1
        let channel: Inbound
        let inline: NIOLoopBound<InlineDelivery>
        do {
            (channel, inline) = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.receiveBufferBytes))
                .channelOption(.datagramVectorReadMessageCount, value: options.vectorReads)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: slot * options.vectorReads))
                .channelOption(.maxMessagesPerRead, value: 4)
                .bind(to: address.socketAddress) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let inline = InlineDelivery()
                        try channel.pipeline.syncOperations.addHandlers(DatagramBatcher(), inline)
                        return (try Inbound(wrappingChannelSynchronously: channel, configuration: .init(
                            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16))),
                                NIOLoopBound(inline, eventLoop: channel.eventLoop))
                    }
                }
        } catch {
            throw TransportError.bindFailed(address.description, "\(error)")
        }
        guard let local = channel.channel.localAddress.flatMap(PeerAddress.init) else {
            throw TransportError.notIP("\(String(describing: channel.channel.localAddress))")
        }
        return UDPTransport(channel: channel, inline: inline, localAddress: local)
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
        let inline = inline
        do {
            try await channel.channel.eventLoop.submit { inline.value.forward() }.get()
            try await channel.executeThenClose { inbound, _ in
                for try await batch in inbound {
                    await handler(InlineDelivery.datagrams(batch))
                }
            }
        } catch {
            // Closing the channel (shutdown) or cancellation ends delivery; nothing to report.
        }
    }

    /// When `executor` is this socket's event loop, hands every batch to `handler` right in the
    /// read cycle (no task hop either way) until the socket closes or the task is cancelled, and
    /// returns true; returns false at once otherwise. The read loop waits for `handler`, so a
    /// busy node leaves datagrams in the socket, as with `deliver`.
    public func deliverInline(ifOn executor: any SerialExecutor,
                              to handler: @escaping @Sendable ([InboundDatagram]) -> Void) async -> Bool {
        let loop = channel.channel.eventLoop
        guard ObjectIdentifier(executor) == ObjectIdentifier(loop as AnyObject) else { return false }
        let inline = inline
        do {
            try await loop.submit { inline.value.deliverInline(to: handler) }.get()
        } catch {
            return false
        }
        let channel = channel.channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        return true
    }

    public func close() async {
        try? await channel.channel.close()
    }

    /// Starts closing without waiting (for shutdown handlers that cannot await).
    public func shutdown() {
        channel.channel.close(promise: nil)
    }
}
