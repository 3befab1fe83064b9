import PRSMNode

/// The simulated universe: virtual time, the event queue, the executor and the trace. It is
/// touched only from the driver thread (jobs run there too), which is what makes runs
/// reproducible; `@unchecked Sendable` records that contract rather than a lock.
public final class SimWorld: @unchecked Sendable {
    public let executor = SimExecutor()
    public private(set) var nowUs: UInt64 = 0
    public private(set) var jobsRun: UInt64 = 0
    var events = EventQueue()
    var trace: TraceRecorder
    private var schedule: SimRandom?

    init(seed: UInt64, randomSchedule: Bool, keepTrace: Bool) {
        trace = TraceRecorder(keepLines: keepTrace)
        schedule = randomSchedule ? SimRandom(seed: seed, stream: "schedule") : nil
    }

    public var nowMs: UInt64 { nowUs / 1_000 }

    @discardableResult
    func schedule(atUs time: UInt64, _ action: @escaping () -> Void) -> Int {
        events.schedule(atUs: max(time, nowUs), action)
    }

    func cancelEvent(_ id: Int) { _ = events.cancel(id) }

    func record(_ line: @autoclosure () -> String) { trace.append(timeUs: nowUs, line()) }

    /// Runs jobs until none is runnable, then fires the next event, until `endUs` or the job
    /// budget is reached. Returns false when the budget ran out.
    func drive(untilUs endUs: UInt64, jobBudget: UInt64) -> Bool {
        while true {
            var pick: ((Int) -> Int)?
            if schedule != nil {
                pick = { [self] count in Int(schedule!.below(UInt64(count))) }
            }
            if executor.runNext(pick: pick) {
                jobsRun += 1
                if jobsRun >= jobBudget { return false }
                continue
            }
            guard let next = events.nextTimeUs, next <= endUs, let (time, action) = events.popNext() else {
                nowUs = max(nowUs, min(endUs, events.nextTimeUs ?? endUs))
                return true
            }
            nowUs = max(nowUs, time)
            action()
        }
    }
}
