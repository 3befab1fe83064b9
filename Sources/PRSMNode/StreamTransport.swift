import NIOCore

/// The stream half of the Transport seam: TCP in `prsm-node`, simulated streams in PRSMSim.
/// Streams carry length-framed envelopes (u32 big-endian length, then the envelope) of at most
/// the transport's frame limit (`Envelope.maxFrameSize` by default); a bigger frame, a reset or
/// an idle timeout ends the stream with an error.
public protocol StreamTransport: Sendable {
    var localAddress: PeerAddress { get }
    /// Runs `handler` for every inbound stream (concurrently, up to the transport's connection
    /// limit) until the transport closes or the task is cancelled. The stream closes when
    /// `handler` returns.
    func serve(_ handler: @escaping @Sendable (any FramedStream) async -> Void) async
    /// Opens a stream to `address`, runs `body` with it, then closes it.
    func withStream<Result: Sendable>(
        to address: PeerAddress, _ body: (any FramedStream) async throws -> Result
    ) async throws -> Result
}

/// One framed stream with one peer, used by a single task.
public protocol FramedStream {
    var remoteAddress: PeerAddress { get }
    func send(_ frame: ByteBuffer) async throws
    /// The next frame, or nil when the peer closed the stream cleanly.
    func receive() async throws -> ByteBuffer?
}
