import NIOCore
import PRSMNode

/// A `FramedStream` over one TCP connection, valid inside the scope that opened it.
final class TCPFramedStream: FramedStream {
    let remoteAddress: PeerAddress
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>

    init(remoteAddress: PeerAddress, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.remoteAddress = remoteAddress
        iterator = inbound.makeAsyncIterator()
        writer = outbound
    }

    func send(_ frame: ByteBuffer) async throws {
        try await writer.write(frame)
    }

    func receive() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}
