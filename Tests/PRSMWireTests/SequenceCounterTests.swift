import Testing
@testable import PRSMWire

struct SequenceCounterTests {
    @Test func startsAtTheMillisecondShiftedAndCountsWithinIt() {
        var counter = SequenceCounter()
        let t = Fixture.t0
        let values = [t, t, t, t + 1, t + 1].map { counter.next(nowMs: $0) }
        #expect(values == [t << 16, t << 16 | 1, t << 16 | 2, (t + 1) << 16, (t + 1) << 16 | 1])
    }

    @Test func strictlyIncreasingWhenTheClockGoesBackwards() {
        var counter = SequenceCounter()
        let t = Fixture.t0
        var last = counter.next(nowMs: t + 10_000)
        for now in [t + 10_000, t, t - 3_600_000, t + 5, t + 10_000, t + 9_999, 0] {
            let next = counter.next(nowMs: now)
            #expect(next > last, "now = \(now)")
            last = next
        }
        let caughtUp = counter.next(nowMs: t + 10_001)
        #expect(caughtUp == (t + 10_001) << 16)
    }

    @Test func moreThan65536InOneMillisecondStaysIncreasing() {
        var counter = SequenceCounter()
        var last = counter.next(nowMs: Fixture.t0)
        for _ in 0..<70_000 {
            let next = counter.next(nowMs: Fixture.t0)
            if next <= last { Issue.record("\(next) after \(last)"); return }
            last = next
        }
    }

    @Test func aRestartedCounterIsAheadOfTheOldOne() {
        var before = SequenceCounter()
        var last: UInt64 = 0
        for _ in 0..<1_000 { last = before.next(nowMs: Fixture.t0) }
        var after = SequenceCounter()
        let first = after.next(nowMs: Fixture.t0 + 1)
        #expect(first > last)
    }
}
