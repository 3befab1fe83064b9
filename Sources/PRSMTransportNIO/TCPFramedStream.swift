import NIOCore
import PRSMNode

/// A `FramedStream` over one TCP connection, valid inside the scope that opened it.
final class TCPFramedStream: FramedStream {
    let remoteAddress: PeerAddress
    private let maxFrameSize: Int
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>

    init(remoteAddress: PeerAddress, maxFrameSize: Int, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.remoteAddress = remoteAddress
        self.maxFrameSize = maxFrameSize
        iterator = inbound.makeAsyncIterator()
        writer = outbound
    }

    func send(_ frame: ByteBuffer) async throws {
        // Refused here, before queueing: the writer does not report encoder failures back.
        guard frame.readableBytes <= maxFrameSize else {
            throw TransportError.frameTooLarge(frame.readableBytes, limit: maxFrameSize)
        }
        try await writer.write(frame)
    }

    func receive() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}
