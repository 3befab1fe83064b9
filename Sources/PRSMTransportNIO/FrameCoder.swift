import NIOCore

/// Splits a TCP byte stream into frames: u32 big-endian length, then that many bytes.
/// A length over the limit is an error (the channel closes) before any of it is buffered.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maxFrameSize: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        guard Int(length) <= maxFrameSize else { throw TransportError.frameTooLarge(Int(length), limit: maxFrameSize) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(NIOAny(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Prefixes each outbound frame with its u32 big-endian length.
struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer
    let maxFrameSize: Int

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard data.readableBytes <= maxFrameSize else {
            throw TransportError.frameTooLarge(data.readableBytes, limit: maxFrameSize)
        }
        out.writeInteger(UInt32(data.readableBytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}

/// Closes a connection that has neither read nor written for the idle timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.fireErrorCaught(TransportError.idleTimeout)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
