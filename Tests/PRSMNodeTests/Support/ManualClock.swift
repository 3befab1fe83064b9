import PRSMNode
import Synchronization

/// A clock that only moves when the test moves it (forwards or backwards, as a wall clock can).
final class ManualClock: NodeClock {
    private let now: Mutex<UInt64>

    init(nowMs: UInt64 = Devnet.timeMs + 3_600_000) { now = Mutex(nowMs) }

    var nowMs: UInt64 { now.withLock { $0 } }

    func set(_ ms: UInt64) { now.withLock { $0 = ms } }
    func advance(byMs delta: UInt64) { now.withLock { $0 += delta } }

    func sleep(untilMs deadlineMs: UInt64) async throws {
        while nowMs < deadlineMs { try await Task.sleep(for: .milliseconds(2)) }
    }
}
