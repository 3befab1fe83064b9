import PRSMNode

/// A node's view of virtual time: the world's clock plus this node's skew (a `clock-skew`
/// fault), in unix milliseconds from the genesis time.
public final class SimClock: NodeClock, @unchecked Sendable {
    let world: SimWorld
    let epochMs: UInt64
    var skewMs: Int64 = 0

    init(world: SimWorld, epochMs: UInt64) {
        self.world = world
        self.epochMs = epochMs
    }

    public var nowMs: UInt64 { UInt64(Int64(epochMs + world.nowMs) + skewMs) }

    public func sleep(untilMs deadlineMs: UInt64) async throws {
        let localNow = nowMs
        guard deadlineMs > localNow else { return }
        try await world.sleep(untilUs: world.nowUs + (deadlineMs - localNow) * 1_000)
    }
}

extension SimWorld {
    /// Suspends the calling task until virtual time `wakeUs` (throws if it is cancelled).
    func sleep(untilUs wakeUs: UInt64) async throws {
        guard wakeUs > nowUs else { return }
        let timer = SimTimer()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                timer.arm(continuation, world: self, atUs: wakeUs)
            }
        } onCancel: {
            timer.cancel()
        }
    }
}

/// One pending sleep. Arm and cancel both run on the driver thread, in either order.
final class SimTimer: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, any Error>?
    private var eventID: Int?
    private var cancelled = false
    private weak var world: SimWorld?

    func arm(_ continuation: CheckedContinuation<Void, any Error>, world: SimWorld, atUs time: UInt64) {
        if cancelled {
            continuation.resume(throwing: CancellationError())
            return
        }
        self.continuation = continuation
        self.world = world
        eventID = world.schedule(atUs: time) { [self] in
            let pending = self.continuation
            self.continuation = nil
            pending?.resume()
        }
    }

    func cancel() {
        cancelled = true
        if let id = eventID { world?.cancelEvent(id) }
        let pending = continuation
        continuation = nil
        pending?.resume(throwing: CancellationError())
    }
}
