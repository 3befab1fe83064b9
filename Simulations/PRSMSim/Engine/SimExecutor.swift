import DequeModule
import Synchronization

/// The one executor every simulated actor and task runs on. It only queues jobs; the simulation
/// driver runs them, one at a time on its own thread, in FIFO order or in an order drawn from the
/// run's seeded generator. Work that escapes to another executor (a bare `Task {}`, Dispatch, a
/// real clock) never reaches this queue, which is why node code is linted for those.
public final class SimExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let queue = Mutex(Deque<UnownedJob>())

    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.append(unowned) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public var pendingJobs: Int { queue.withLock { $0.count } }

    /// Runs one job; `pick` chooses among the runnable ones (nil = FIFO). False when idle.
    func runNext(pick: ((Int) -> Int)?) -> Bool {
        let job: UnownedJob? = queue.withLock { jobs in
            guard !jobs.isEmpty else { return nil }
            guard let pick, jobs.count > 1 else { return jobs.removeFirst() }
            return jobs.remove(at: pick(jobs.count))
        }
        guard let job else { return false }
        job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
        return true
    }
}
