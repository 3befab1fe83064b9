import PRSMNode
import PRSMTransportNIO
import Synchronization

/// The system clock plus an adjustable offset: how the topology's `clock-skew` fault reaches a
/// real node. It outlives the node's incarnations, as a machine's clock outlives a crash.
final class SkewedClock: NodeClock {
    private let system = SystemClock()
    private let skew = Mutex<Int64>(0)

    var skewMs: Int64 {
        get { skew.withLock { $0 } }
        set { skew.withLock { $0 = newValue } }
    }

    var nowMs: UInt64 { UInt64(Int64(system.nowMs) + skewMs) }

    func sleep(untilMs deadlineMs: UInt64) async throws {
        let now = nowMs
        guard deadlineMs > now else { return }
        try await Task.sleep(for: .milliseconds(deadlineMs - now))
    }
}
