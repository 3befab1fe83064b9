import Testing
@testable import PRSMWire

struct ReplayGuardTests {
    static let t0 = Fixture.t0

    @Test func defaultsAreTheDocumentedOnes() {
        let config = ReplayGuard.Config()
        #expect(config.toleranceMs == 30_000)
        #expect(config.windowSize == 64)
    }

    @Test func duplicatesAreReplayedAndOlderThanAFullWindowIsStale() {
        let replay = Replay(windowSize: 4)
        let key = Fixture.publicKey(0)
        for sequence: UInt64 in [10, 20, 30, 40] {
            #expect(replay.admit(key, sequence, timestamp: Self.t0, now: Self.t0) == .fresh)
        }
        #expect(replay.check(key, 10, timestamp: Self.t0, now: Self.t0) == .replayed)
        #expect(replay.check(key, 9, timestamp: Self.t0, now: Self.t0) == .stale)
        #expect(replay.check(key, 15, timestamp: Self.t0, now: Self.t0) == .fresh)
        #expect(replay.admit(key, 50, timestamp: Self.t0, now: Self.t0) == .fresh)
        // 10 slid out of the four-entry window: now older than all of it.
        #expect(replay.check(key, 10, timestamp: Self.t0, now: Self.t0) == .stale)
        #expect(replay.check(key, 15, timestamp: Self.t0, now: Self.t0) == .stale)
        #expect(replay.check(key, 20, timestamp: Self.t0, now: Self.t0) == .replayed)
        // Other senders are unaffected.
        #expect(replay.check(Fixture.publicKey(1), 10, timestamp: Self.t0, now: Self.t0) == .fresh)
    }

    @Test func clockSkewIsCheckedFirstAndInclusive() {
        let replay = Replay()
        let key = Fixture.publicKey(0)
        #expect(replay.admit(key, 1, timestamp: Self.t0, now: Self.t0) == .fresh)
        #expect(replay.check(key, 1, timestamp: Self.t0, now: Self.t0 + 30_001) == .clockSkew)
        #expect(replay.check(key, 1, timestamp: Self.t0, now: Self.t0 + 30_000) == .replayed)
        #expect(replay.check(key, 2, timestamp: Self.t0 + 30_001, now: Self.t0) == .clockSkew)
        #expect(replay.check(key, 2, timestamp: Self.t0 + 30_000, now: Self.t0) == .fresh)
    }

    @Test func sendersNeverExceedTheBoundWhenFlooded() {
        let replay = Replay(maxSenders: 100)
        var verdicts: [ReplayGuard.Verdict: Int] = [:]
        for index in 0..<1_000 {
            let now = Self.t0 + UInt64(index) * 10  // 10 s of traffic: nobody expires
            verdicts[replay.admit(Fixture.publicKey(index), 1, timestamp: now, now: now), default: 0] += 1
            #expect(replay.senderCount <= 100)
        }
        #expect(verdicts == [.fresh: 100, .tableFull: 900])
        #expect(replay.senderCount == 100)
    }

    @Test func floodOverTimeRecyclesOnlyExpiredWindows() {
        let replay = Replay(maxSenders: 50)
        var admitted = 0
        for index in 0..<2_000 {
            let now = Self.t0 + UInt64(index) * 100  // 200 s: windows expire as time goes on
            if replay.admit(Fixture.publicKey(index), 1, timestamp: now, now: now) == .fresh { admitted += 1 }
            #expect(replay.senderCount <= 50)
        }
        // A window lives until its timestamp + 30 s, so the 50 slots free up in blocks, each
        // 30.1 s after the previous one: indices 0–49, 301–350, 602–651, 903–952, 1204–1253,
        // 1505–1554 and 1806–1855.
        #expect(admitted == 7 * 50)
    }

    @Test func tableFullWhileEveryWindowIsLive() {
        let replay = Replay(maxSenders: 2)
        #expect(replay.admit(Fixture.publicKey(0), 1, timestamp: Self.t0, now: Self.t0) == .fresh)
        #expect(replay.admit(Fixture.publicKey(1), 1, timestamp: Self.t0 + 5_000, now: Self.t0 + 5_000) == .fresh)
        let newcomer = Fixture.publicKey(2)
        for now in [Self.t0 + 5_000, Self.t0 + 29_999, Self.t0 + 30_000] {
            #expect(replay.check(newcomer, 1, timestamp: now, now: now) == .tableFull)
        }
        // Known senders continue while the table is full.
        #expect(replay.admit(Fixture.publicKey(0), 2, timestamp: Self.t0 + 1, now: Self.t0 + 1) == .fresh)
    }

    @Test func windowIsForgottenOnlyAfterItsMaxTimestampPlusTolerance() {
        let replay = Replay(maxSenders: 1)
        let old = Fixture.publicKey(0)
        let newcomer = Fixture.publicKey(1)
        #expect(replay.admit(old, 1, timestamp: Self.t0, now: Self.t0) == .fresh)
        // A later envelope from the same sender extends its window's life to its own timestamp + 30 s.
        #expect(replay.admit(old, 2, timestamp: Self.t0 + 10_000, now: Self.t0 + 10_000) == .fresh)
        for now in [Self.t0 + 30_001, Self.t0 + 40_000] {
            #expect(replay.admit(newcomer, 1, timestamp: now, now: now) == .tableFull, "now = t0 + \(now - Self.t0)")
            #expect(replay.check(old, 2, timestamp: Self.t0 + 10_000, now: now) == .replayed)
        }
        let later = Self.t0 + 40_001
        #expect(replay.admit(newcomer, 1, timestamp: later, now: later) == .fresh)
        #expect(replay.senderCount == 1)
        // The forgotten sender's old envelopes are now outside the tolerance, so still refused.
        #expect(replay.check(old, 2, timestamp: Self.t0 + 10_000, now: later) == .clockSkew)
        #expect(replay.check(newcomer, 1, timestamp: later, now: later) == .replayed)
    }

    @Test func aFreshVerdictIsAlwaysRecorded() {
        // Whatever the history, `record` after `.fresh` must make the same envelope a replay.
        let replay = Replay(maxSenders: 3)
        var now = Self.t0
        for step in 0..<600 {
            now += UInt64((step * 7919) % 1_500)
            let sender = Fixture.publicKey((step * 31) % 7)
            let sequence = now << 16 | UInt64(step)
            if replay.admit(sender, sequence, timestamp: now, now: now) == .fresh {
                #expect(replay.check(sender, sequence, timestamp: now, now: now) == .replayed,
                        "step \(step)")
            }
            #expect(replay.senderCount <= 3)
        }
    }
}
