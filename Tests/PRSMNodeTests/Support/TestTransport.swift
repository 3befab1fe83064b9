import NIOCore
import PRSMNode
import Synchronization

/// An in-memory datagram transport: `send` records what the node sent, `deliver` hands the node
/// whatever the test injects and returns when the test calls `finish()` or the task is cancelled.
final class TestTransport: DatagramTransport {
    struct Sent: Sendable {
        let bytes: ByteBuffer
        let address: PeerAddress
    }

    let localAddress: PeerAddress
    private let sentDatagrams = Mutex<[Sent]>([])
    private let inbound: AsyncStream<[InboundDatagram]>
    private let inboundSink: AsyncStream<[InboundDatagram]>.Continuation

    init(localAddress: PeerAddress = .ipv4(127, 0, 0, 1, port: 7700)) {
        self.localAddress = localAddress
        (inbound, inboundSink) = AsyncStream.makeStream()
    }

    var sent: [Sent] { sentDatagrams.withLock { $0 } }

    func send(_ bytes: ByteBuffer, to address: PeerAddress) {
        sentDatagrams.withLock { $0.append(Sent(bytes: bytes, address: address)) }
    }

    /// Queues a batch for `deliver`.
    func inject(_ batch: [InboundDatagram]) { inboundSink.yield(batch) }

    /// Closes the transport: `deliver` returns once queued batches are handed over.
    func finish() { inboundSink.finish() }

    func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async {
        for await batch in inbound { await handler(batch) }
    }
}
