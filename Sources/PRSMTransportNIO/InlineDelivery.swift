import NIOCore
import PRSMNode

/// Routes batches of datagrams either straight to a synchronous sink (a node whose actor runs on
/// this event loop handles them in the read cycle that brought them, with no task hop) or on to
/// the async channel. Until the consumer chooses, batches wait here: at most `maxWaiting`, after
/// which reading pauses and the kernel holds (or counts as dropped) what comes next.
final class InlineDelivery: ChannelDuplexHandler {
    typealias InboundIn = [AddressedEnvelope<ByteBuffer>]
    typealias InboundOut = [AddressedEnvelope<ByteBuffer>]
    typealias OutboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private enum Mode {
        case undecided
        case inline(@Sendable ([InboundDatagram]) -> Void)
        case forward
    }

    static let maxWaiting = 16

    private var mode = Mode.undecided
    private var waiting: [[AddressedEnvelope<ByteBuffer>]] = []
    private var heldRead = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// From now on every batch goes to `sink`, those that waited first. On the event loop.
    func deliverInline(to sink: @escaping @Sendable ([InboundDatagram]) -> Void) {
        mode = .inline(sink)
        for batch in waiting.removingAll() {
            let datagrams = Self.datagrams(batch)
            if !datagrams.isEmpty { sink(datagrams) }
        }
        releaseRead()
    }

    /// From now on every batch goes on to the async channel, those that waited first.
    func forward() {
        mode = .forward
        guard let context else { return }
        for batch in waiting.removingAll() { context.fireChannelRead(wrapInboundOut(batch)) }
        context.fireChannelReadComplete()
        releaseRead()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .undecided: waiting.append(unwrapInboundIn(data))
        case let .inline(sink):
            let datagrams = Self.datagrams(unwrapInboundIn(data))
            if !datagrams.isEmpty { sink(datagrams) }
        case .forward: context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .forward = mode { context.fireChannelReadComplete() }
    }

    func read(context: ChannelHandlerContext) {
        if case .undecided = mode, waiting.count >= Self.maxWaiting {
            heldRead = true
        } else {
            context.read()
        }
    }

    private func releaseRead() {
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }

    /// The datagrams whose source is an IP address (anything else cannot be answered).
    static func datagrams(_ envelopes: [AddressedEnvelope<ByteBuffer>]) -> [InboundDatagram] {
        envelopes.compactMap { envelope in
            PeerAddress(envelope.remoteAddress).map { InboundDatagram(bytes: envelope.data, source: $0) }
        }
    }
}

private extension Array {
    /// The elements, leaving the array empty.
    mutating func removingAll() -> [Element] {
        defer { removeAll() }
        return self
    }
}
