import DequeModule
import NIOCore

/// The bounded queue of sealed envelopes waiting for one peer's stream, and the sender task's
/// wake-up. Owned by the node actor; the sender task takes frames through the actor.
public final class OutboundFrames {
    public static let maxFrames = 256
    static let maxBytes = 32 * 1024 * 1024

    var frames = Deque<ByteBuffer>()
    var bytes = 0
    /// A sender task is running (or about to) for this peer.
    var senderRunning = false
    var waiter: CheckedContinuation<ByteBuffer?, Never>?

    /// Queues `frame`, dropping the oldest frames while over a bound; returns how many it dropped.
    func push(_ frame: ByteBuffer) -> Int {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: frame)
            return 0
        }
        frames.append(frame)
        bytes += frame.readableBytes
        var dropped = 0
        while frames.count > Self.maxFrames || (bytes > Self.maxBytes && frames.count > 1) {
            bytes -= frames.removeFirst().readableBytes
            dropped += 1
        }
        return dropped
    }

    func pop() -> ByteBuffer? {
        guard let frame = frames.popFirst() else { return nil }
        bytes -= frame.readableBytes
        return frame
    }

    /// Ends a waiting sender (shutdown).
    func finish() {
        waiter?.resume(returning: nil)
        waiter = nil
    }
}
