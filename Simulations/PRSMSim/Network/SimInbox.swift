import PRSMNode

/// Datagrams waiting for one simulated node. The network pushes from driver events; the node's
/// delivery loop takes everything queued at once (one batch per wake-up, like a socket read).
final class SimInbox: @unchecked Sendable {
    static let capacity = 4_096

    private var queued: [InboundDatagram] = []
    private var waiter: CheckedContinuation<[InboundDatagram]?, Never>?
    private var closed = false
    private(set) var overflowDrops: UInt64 = 0
    /// Test hook (Simulation+TestHooks.swift): when set, `close()` does nothing, so a receiver
    /// waiting here is never woken, like a transport that loses its wake-up.
    var ignoresClose = false

    /// Queues a datagram; a full inbox drops it like a full socket buffer (counted).
    func push(_ datagram: InboundDatagram) -> Bool {
        guard !closed else { return false }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: [datagram])
            return true
        }
        guard queued.count < Self.capacity else {
            overflowDrops += 1
            return false
        }
        queued.append(datagram)
        return true
    }

    func next() async -> [InboundDatagram]? {
        if !queued.isEmpty {
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        if closed { return nil }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if closed { continuation.resume(returning: nil) } else { waiter = continuation }
            }
        } onCancel: {
            self.close()
        }
    }

    private var closeWaiters: [CloseWatch] = []

    /// Suspends until the inbox closes (the node crashed or stopped) or the task is cancelled.
    /// Cancelling one watcher wakes only that watcher; datagram delivery goes on.
    func waitUntilClosed() async {
        guard !closed else { return }
        let watch = CloseWatch()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if closed || watch.cancelled { continuation.resume() } else {
                    watch.continuation = continuation
                    closeWaiters.append(watch)
                }
            }
        } onCancel: {
            watch.wake()
        }
    }

    func close() {
        guard !ignoresClose else { return }
        closed = true
        let pending = waiter
        waiter = nil
        pending?.resume(returning: nil)
        let watchers = closeWaiters
        closeWaiters.removeAll()
        for watcher in watchers { watcher.wake() }
    }
}

/// One `waitUntilClosed` caller; woken once, by the close or by its own cancellation.
final class CloseWatch: @unchecked Sendable {
    var continuation: CheckedContinuation<Void, Never>?
    private(set) var cancelled = false

    func wake() {
        cancelled = true
        let pending = continuation
        continuation = nil
        pending?.resume()
    }
}
