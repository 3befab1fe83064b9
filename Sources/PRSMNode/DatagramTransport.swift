import NIOCore

/// One datagram as received, with the address it came from.
public struct InboundDatagram: Sendable {
    public let bytes: ByteBuffer
    public let source: PeerAddress

    public init(bytes: ByteBuffer, source: PeerAddress) {
        self.bytes = bytes
        self.source = source
    }
}

/// The datagram half of the Transport seam: UDP in `prsm-node`, `SimTransport` in the simulator.
/// `send` never blocks and never awaits, so an actor can carry out a core's effects without
/// suspending mid-transition; delivery is best effort, as UDP's.
public protocol DatagramTransport: Sendable {
    var localAddress: PeerAddress { get }
    func send(_ bytes: ByteBuffer, to address: PeerAddress)
    /// Hands inbound datagrams to `handler` in batches (whatever arrived together), waiting for
    /// each batch, until the transport closes or the task is cancelled. Waiting is the
    /// back-pressure: a busy node leaves datagrams in the socket, where the kernel counts drops.
    func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async
    /// Like `deliver`, but calls `handler` synchronously where the transport reads, when that is
    /// `executor` (the caller's actor runs there, so no task hop is needed), and returns true once
    /// delivery ends; returns false at once when the transport reads elsewhere.
    func deliverInline(ifOn executor: any SerialExecutor,
                       to handler: @escaping @Sendable ([InboundDatagram]) -> Void) async -> Bool
}

extension DatagramTransport {
    public func deliverInline(ifOn executor: any SerialExecutor,
                              to handler: @escaping @Sendable ([InboundDatagram]) -> Void) async -> Bool { false }
}
