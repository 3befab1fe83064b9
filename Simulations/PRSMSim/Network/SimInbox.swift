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

    private var closeWaiters: [CheckedContinuation<Void, Never>] = []

    /// Suspends until the inbox closes (the node crashed or stopped) or the task is cancelled.
    func waitUntilClosed() async {
        guard !closed else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if closed { continuation.resume() } else { closeWaiters.append(continuation) }
            }
        } onCancel: {
            self.close()
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
        for watcher in watchers { watcher.resume() }
    }
}
