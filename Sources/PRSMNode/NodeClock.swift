/// Where node code gets time: the system clock in `prsm-node`, a virtual clock in the simulator.
/// Time is unix milliseconds so it can go straight into envelopes and replay checks.
public protocol NodeClock: Sendable {
    var nowMs: UInt64 { get }
    /// Suspends until the clock reads at least `deadlineMs` (or the task is cancelled).
    func sleep(untilMs deadlineMs: UInt64) async throws
}
