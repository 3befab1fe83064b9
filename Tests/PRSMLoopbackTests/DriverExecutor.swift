import NIOCore
import NIOPosix

/// Runs the scenario's own tasks (timeline, workload, probes, event pumps) on a dedicated
/// event-loop thread, as a task-executor preference, so its compressed timeline keeps time when
/// other suites saturate the cooperative pool (DESIGN.md: under `swift test`, drive each scenario
/// on its own thread). The nodes themselves run on the NIO singleton group's loops.
final class DriverExecutor: TaskExecutor {
    /// One thread for the whole test process; it ends with the process.
    static let shared = DriverExecutor(MultiThreadedEventLoopGroup(numberOfThreads: 1).next())

    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
