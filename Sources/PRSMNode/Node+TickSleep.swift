/// The tick loop's sleep. It ends at its wake time or when rung, whichever comes first: a turn
/// that moves a deadline earlier (a 5 ms gossip flush, "follow now" after a snapshot, a request
/// timeout) rings it, so no deadline waits for a wake planned before it existed.
extension Node {
    /// Sleeps until `wakeMs` on the injected clock, or until `ringTick` is called. Both racers
    /// are child tasks, so in the simulator they run on its executor like everything else.
    func sleepForTick(untilMs wakeMs: UInt64) async {
        tickWakeMs = wakeMs
        tickRung = false
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.clock.sleep(untilMs: wakeMs) }
            group.addTask { await self.waitForRing() }
            await group.next()
            group.cancelAll()  // the timer, if the ring came first
            ringTick()  // the ring's waiter, if the timer came first
        }
        tickWakeMs = nil
    }

    func ringTick() {
        tickRung = true
        tickWakeMs = nil
        let waiter = tickWaiter
        tickWaiter = nil
        waiter?.resume()
    }

    private func waitForRing() async {
        // A ring may come before this task first runs; it is remembered until the next sleep.
        // Checked inside the body, not before the call: the runtime may suspend between the two
        // (seen on real event loops), and a ring in that gap found no waiter and was lost, which
        // left the loop asleep for good and the node unable to stop.
        await withCheckedContinuation { continuation in
            if tickRung { continuation.resume() } else { tickWaiter = continuation }
        }
    }
}
