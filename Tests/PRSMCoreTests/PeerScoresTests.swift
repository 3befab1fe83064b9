import Testing
@testable import PRSMCore

struct PeerScoresTests {
    static func key(_ n: UInt8) -> PublicKey { try! SigningKey(seed: [UInt8](repeating: n, count: 32)).publicKey }
    let alice = Self.key(1)
    let bob = Self.key(2)

    @Test func eventsMoveTheScoreWithinItsRange() {
        var scores = PeerScores()
        #expect(scores.score(of: alice, nowMs: 0) == 0)
        #expect(scores.record(.usefulAnswer, key: alice, nowMs: 0) == nil)
        #expect(scores.score(of: alice, nowMs: 0) == 1)
        _ = scores.record(.timeout, key: alice, nowMs: 0)
        #expect(scores.score(of: alice, nowMs: 0) == -1)
        for _ in 0..<300 { _ = scores.record(.usefulAnswer, key: bob, nowMs: 0) }
        #expect(scores.score(of: bob, nowMs: 0) == 100)
        for _ in 0..<30 { _ = scores.record(.invalidMessage, key: bob, nowMs: 0) }
        #expect(scores.score(of: bob, nowMs: 0) == -100)
    }

    @Test func reachingTheThresholdBansWithEvidenceOnce() {
        var scores = PeerScores()
        for _ in 0..<4 { #expect(scores.record(.invalidMessage, key: alice, nowMs: 1_000) == nil) }
        #expect(!scores.isBanned(key: alice, nowMs: 1_000))
        let evidence = scores.record(.invalidMessage, key: alice, nowMs: 1_000)
        #expect(evidence?.subject == .key(alice))
        #expect(evidence?.kind == .banned)
        #expect(evidence?.atMs == 1_000)
        #expect(evidence?.detail.contains("-50") == true)
        #expect(scores.isBanned(key: alice, nowMs: 1_000))
        #expect(scores.bannedUntil(key: alice, nowMs: 1_000) == 3_601_000)
        #expect(scores.bannedKeys(nowMs: 1_000) == [alice])
        // Further offences while banned do not produce a second ban.
        #expect(scores.record(.invalidMessage, key: alice, nowMs: 1_001) == nil)
        #expect(!scores.isBanned(key: bob, nowMs: 1_000))
    }

    @Test func bansExpire() {
        var config = PeerScores.Config()
        config.banDurationMs = 10_000
        config.decayIntervalMs = 0
        var scores = PeerScores(config: config)
        for _ in 0..<5 { _ = scores.record(.invalidMessage, key: alice, nowMs: 0) }
        #expect(scores.isBanned(key: alice, nowMs: 9_999))
        #expect(!scores.isBanned(key: alice, nowMs: 10_000))
        scores.expire(nowMs: 10_000)
        #expect(scores.bannedKeys(nowMs: 0).isEmpty)  // the ban itself is gone, not only past
        // Still at the threshold without decay: a timeout does not ban again (timeouts never
        // ban), the next real offence does, with new evidence.
        #expect(scores.record(.timeout, key: alice, nowMs: 10_001) == nil)
        #expect(scores.score(of: alice, nowMs: 10_001) == -50)
        // Nor does a useful answer, which only moves the score up.
        scores.creditIfTracked(key: alice, nowMs: 10_001)
        #expect(!scores.isBanned(key: alice, nowMs: 10_001))
        #expect(scores.score(of: alice, nowMs: 10_001) == -49)
        #expect(scores.record(.invalidMessage, key: alice, nowMs: 10_002)?.kind == .banned)
    }

    /// An offline peer that is asked again and again is not banned: timeouts stop at the floor,
    /// above the ban threshold. Invalid messages on top still ban, sooner than alone.
    @Test func timeoutsAloneNeverBan() {
        var scores = PeerScores()
        for n in 0..<1_000 { #expect(scores.record(.timeout, key: alice, nowMs: UInt64(n)) == nil) }
        #expect(scores.score(of: alice, nowMs: 1_000) == PeerScores.Config().timeoutFloor)
        #expect(!scores.isBanned(key: alice, nowMs: 1_000))
        for _ in 0..<1_000 { _ = scores.record(.timeout, address: .ipv4(10, 0, 0, 9, port: 1), nowMs: 0) }
        #expect(!scores.isBanned(address: .ipv4(10, 0, 0, 9, port: 1), nowMs: 1))
        #expect(scores.record(.invalidMessage, key: alice, nowMs: 1_000) == nil)
        #expect(scores.record(.invalidMessage, key: alice, nowMs: 1_000) == nil)
        #expect(scores.record(.invalidMessage, key: alice, nowMs: 1_000)?.kind == .banned)
    }

    /// A useful answer repays a debt or adds to credit already earned, but opens no entry: DHT
    /// traffic touches hundreds of keys, and an entry each would be memory with no use.
    @Test func anAnswerCreditsOnlyAKeyAlreadyScored() {
        var scores = PeerScores()
        let stranger = scores.creditIfTracked(key: alice, nowMs: 0)
        #expect(!stranger)
        #expect(scores.trackedKeys == 0)
        _ = scores.record(.timeout, key: alice, nowMs: 0)
        let credited = (1...3).map { scores.creditIfTracked(key: alice, nowMs: UInt64($0)) }
        #expect(credited == [true, true, true])
        #expect(scores.score(of: alice, nowMs: 3) == 1)
        #expect(scores.trackedKeys == 1)
    }

    @Test func ipBansIgnoreThePort() {
        var scores = PeerScores()
        let source = PeerAddress.ipv4(10, 0, 0, 1, port: 1)
        var evidence: [Misbehaviour] = []
        for _ in 0..<10 {
            if let e = scores.record(.rateLimited, address: source, nowMs: 0) { evidence.append(e) }
        }
        #expect(evidence.count == 1)
        #expect(evidence.first?.subject == .ip([10, 0, 0, 1]))
        #expect(scores.isBanned(address: .ipv4(10, 0, 0, 1, port: 9_999), nowMs: 1))
        #expect(!scores.isBanned(address: .ipv4(10, 0, 0, 2, port: 1), nowMs: 1))
        #expect(scores.score(of: PeerAddress.ipv4(10, 0, 0, 1, port: 5), nowMs: 1) == -50)
        #expect(scores.trackedKeys == 0)
        #expect(scores.bannedAddresses(nowMs: 1) == [[10, 0, 0, 1]])
    }

    /// An IPv6 offender is banned as its /64: its neighbours in the /64 are banned with it (one
    /// subscriber holds them all), the next /64 is not.
    @Test func ipv6BansCoverTheSlash64() {
        func v6(_ last8: [UInt8], subnet: UInt8 = 0) -> PeerAddress {
            PeerAddress(host: .v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, subnet] + last8), port: 4_000)
        }
        var scores = PeerScores()
        var evidence: [Misbehaviour] = []
        for _ in 0..<10 {
            if let e = scores.record(.rateLimited, address: v6([0, 0, 0, 0, 0, 0, 0, 1]), nowMs: 0) { evidence.append(e) }
        }
        #expect(evidence.map(\.subject) == [.ip([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0])])
        #expect(evidence.first?.subject.description == "ip 2001:db8:0:0::/64")
        #expect(scores.isBanned(address: v6([0xff, 0xee, 0, 0, 0, 0, 0, 9]), nowMs: 1))
        #expect(!scores.isBanned(address: v6([0, 0, 0, 0, 0, 0, 0, 1], subnet: 1), nowMs: 1))
    }

    @Test func scoresDecayTowardZero() {
        var scores = PeerScores()
        _ = scores.record(.invalidMessage, key: alice, nowMs: 0)
        for _ in 0..<5 { _ = scores.record(.usefulAnswer, key: bob, nowMs: 0) }
        #expect(scores.score(of: alice, nowMs: 59_999) == -10)
        #expect(scores.score(of: alice, nowMs: 60_000) == -9)
        #expect(scores.score(of: alice, nowMs: 180_000) == -7)
        #expect(scores.score(of: bob, nowMs: 180_000) == 2)
        #expect(scores.score(of: alice, nowMs: 3_600_000) == 0)
        #expect(scores.score(of: bob, nowMs: 3_600_000) == 0)
        // Forgiven long ago: a new offence starts its own decay clock.
        _ = scores.record(.invalidMessage, key: alice, nowMs: 3_600_000)
        #expect(scores.score(of: alice, nowMs: 3_600_000) == -10)
        #expect(scores.score(of: alice, nowMs: 3_659_999) == -10)
        // Neutral entries are forgotten on expiry.
        scores.expire(nowMs: 3_600_000)
        #expect(scores.trackedKeys == 1)

    }

    /// A node calls `expire` every tick; the tables are swept at most once per interval, and
    /// between sweeps decay still applies on every read.
    @Test func sweepsRunAtMostOncePerInterval() {
        var scores = PeerScores()
        _ = scores.record(.usefulAnswer, key: bob, nowMs: 0)
        scores.expire(nowMs: 55_000)
        #expect(scores.trackedKeys == 1)
        #expect(scores.score(of: bob, nowMs: 60_000) == 0)
        scores.expire(nowMs: 64_999)
        #expect(scores.trackedKeys == 1, "swept 55 s in, so not again before 65 s")
        scores.expire(nowMs: 65_000)
        #expect(scores.trackedKeys == 0)
    }

    @Test func tablesStayBoundedAndKeepTheNotableEntries() {
        var config = PeerScores.Config()
        config.maxKeys = 4
        config.maxAddresses = 2
        var scores = PeerScores(config: config)
        for _ in 0..<5 { _ = scores.record(.invalidMessage, key: alice, nowMs: 0) }  // banned
        for _ in 0..<3 { _ = scores.record(.invalidMessage, key: bob, nowMs: 0) }    // -30
        for n in UInt8(10)..<60 { _ = scores.record(.usefulAnswer, key: Self.key(n), nowMs: UInt64(n)) }
        #expect(scores.trackedKeys == 4)
        #expect(scores.isBanned(key: alice, nowMs: 100))
        #expect(scores.score(of: bob, nowMs: 100) == -30)
        // Of the +1 newcomers the most recent survive.
        #expect(scores.score(of: Self.key(59), nowMs: 100) == 1)
        #expect(scores.score(of: Self.key(58), nowMs: 100) == 1)
        #expect(scores.score(of: Self.key(57), nowMs: 100) == 0)

        for host in UInt8(1)...5 { _ = scores.record(.rateLimited, address: .ipv4(10, 0, 0, host, port: 1), nowMs: 0) }
        #expect(scores.trackedAddresses == 2)
    }

    @Test func bansSurviveFloodsOfNewKeysUntilEveryEntryIsBanned() {
        var config = PeerScores.Config()
        config.maxKeys = 2
        config.decayIntervalMs = 0
        var scores = PeerScores(config: config)
        for _ in 0..<5 { _ = scores.record(.invalidMessage, key: alice, nowMs: 0) }
        for n in UInt8(10)..<40 { _ = scores.record(.timeout, key: Self.key(n), nowMs: 1) }
        #expect(scores.isBanned(key: alice, nowMs: 2))
        // When every entry is banned, the ban ending first makes room.
        for _ in 0..<5 { _ = scores.record(.invalidMessage, key: bob, nowMs: 10) }
        for _ in 0..<5 { _ = scores.record(.invalidMessage, key: Self.key(99), nowMs: 20) }
        #expect(scores.trackedKeys == 2)
        #expect(!scores.isBanned(key: alice, nowMs: 30))
        #expect(scores.isBanned(key: bob, nowMs: 30))
        #expect(scores.isBanned(key: Self.key(99), nowMs: 30))
    }
}
