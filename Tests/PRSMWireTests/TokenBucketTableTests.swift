import Testing
@testable import PRSMWire

struct TokenBucketTableTests {
    static let t0 = Fixture.t0

    @Test func burstThenRefillAtPerSecond() {
        let table = Buckets<Int>(perSecond: 10, burst: 5, maxEntries: 8)
        for _ in 0..<5 { #expect(table.allow(1, nowMs: Self.t0)) }
        #expect(!table.allow(1, nowMs: Self.t0))
        // 10 per second: one token per 100 ms, fractions kept across calls.
        #expect(!table.allow(1, nowMs: Self.t0 + 50))
        #expect(!table.allow(1, nowMs: Self.t0 + 99))
        #expect(table.allow(1, nowMs: Self.t0 + 100))
        #expect(!table.allow(1, nowMs: Self.t0 + 100))
        // 350 ms later: three more tokens (and half of a fourth).
        for _ in 0..<3 { #expect(table.allow(1, nowMs: Self.t0 + 450)) }
        #expect(!table.allow(1, nowMs: Self.t0 + 450))
        #expect(table.allow(1, nowMs: Self.t0 + 500))
    }

    @Test func refillIsCappedAtTheBurst() {
        let table = Buckets<Int>(perSecond: 500, burst: 1_000, maxEntries: 8)
        var allowed = 0
        while table.allow(1, nowMs: Self.t0) { allowed += 1 }
        #expect(allowed == 1_000)
        allowed = 0
        while table.allow(1, nowMs: Self.t0 + 1_000) { allowed += 1 }
        #expect(allowed == 500)
        allowed = 0
        while table.allow(1, nowMs: Self.t0 + 3_600_000) { allowed += 1 }
        #expect(allowed == 1_000)
    }

    @Test func clockGoingBackwardsCreatesNoTokens() {
        let table = Buckets<Int>(perSecond: 10, burst: 2, maxEntries: 8)
        #expect(table.allow(1, nowMs: Self.t0 + 1_000))
        #expect(table.allow(1, nowMs: Self.t0 + 1_000))
        #expect(!table.allow(1, nowMs: Self.t0))
        #expect(!table.allow(1, nowMs: Self.t0 + 1_099))
        #expect(table.allow(1, nowMs: Self.t0 + 1_100))
    }

    @Test func keysAreIndependent() {
        let table = Buckets<String>(perSecond: 1, burst: 1, maxEntries: 8)
        #expect(table.allow("a", nowMs: Self.t0))
        #expect(!table.allow("a", nowMs: Self.t0))
        #expect(table.allow("b", nowMs: Self.t0))
    }

    @Test(arguments: [1, 2, 3, 64, 4_096])
    func entriesNeverExceedTheBoundWhenFlooded(maxEntries: Int) {
        let table = Buckets<Int>(perSecond: 500, burst: 1_000, maxEntries: maxEntries)
        for key in 0..<10_000 {
            #expect(table.allow(key, nowMs: Self.t0 + UInt64(key / 100)), "a new key always gets its first token")
            if table.count > maxEntries {
                Issue.record("\(table.count) entries with maxEntries \(maxEntries) after key \(key)")
                return
            }
        }
    }

    @Test func fullyRefilledBucketsAreForgottenBeforeDrainedOnes() {
        let table = Buckets<Int>(perSecond: 1, burst: 5, maxEntries: 4)
        for _ in 0..<5 { #expect(table.allow(0, nowMs: Self.t0)) }  // key 0 drained, touched first
        for key in 1...3 { #expect(table.allow(key, nowMs: Self.t0)) }
        // One second later keys 1–3 are full again; key 0 has one token. A new key makes room.
        #expect(table.allow(4, nowMs: Self.t0 + 1_000))
        #expect(table.count == 2)
        #expect(table.allow(0, nowMs: Self.t0 + 1_000))
        #expect(!table.allow(0, nowMs: Self.t0 + 1_000), "the drained bucket was kept, not reset")
    }
}
