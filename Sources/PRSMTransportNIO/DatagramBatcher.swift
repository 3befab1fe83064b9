import NIOCore

/// Gathers the datagrams of one read cycle and passes them on as a single array when the cycle
/// completes, so the node pays one hop per batch instead of one per datagram.
final class DatagramBatcher: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = [AddressedEnvelope<ByteBuffer>]

    private var pending: [AddressedEnvelope<ByteBuffer>] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !pending.isEmpty {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            context.fireChannelRead(wrapInboundOut(batch))
        }
        context.fireChannelReadComplete()
    }
}
