import Testing
@testable import PRSMCore

struct BannedContactsTests {
    static func contact(_ n: Int) -> Contact {
        Contact(publicKey: dhtTestKey(n, salt: 9).publicKey, address: .ipv4(10, 0, UInt8(n), 1, port: 7700), lastSeenMs: 0)
    }

    @Test func aBanLastsUntilItsEndAndNoLonger() {
        var banned = BannedContacts(limit: 4)
        banned.ban(Self.contact(1).id, untilMs: 100, nowMs: 0)
        #expect(banned.excludes(Self.contact(1), nowMs: 99))
        #expect(!banned.excludes(Self.contact(1), nowMs: 100))
        #expect(!banned.excludes(Self.contact(2), nowMs: 0))
        banned.ban(host: Self.contact(3).address.reputationHost, untilMs: 50, nowMs: 0)
        #expect(banned.excludes(Self.contact(3), nowMs: 49))
        banned.ban(Self.contact(4).id, untilMs: 10, nowMs: 10)
        #expect(banned.count == 2, "a ban already over is not kept")
    }

    /// Full: bans already over go first, then the one ending soonest; the table never grows past
    /// its limit.
    @Test func theTableStaysBounded() {
        var banned = BannedContacts(limit: 3)
        banned.ban(Self.contact(1).id, untilMs: 20, nowMs: 0)
        banned.ban(Self.contact(2).id, untilMs: 500, nowMs: 0)
        banned.ban(Self.contact(3).id, untilMs: 300, nowMs: 0)
        banned.ban(Self.contact(4).id, untilMs: 400, nowMs: 30)
        #expect(banned.count == 3, "the ban that ended at 20 made room")
        #expect([2, 3, 4].allSatisfy { banned.excludes(Self.contact($0), nowMs: 30) })
        banned.ban(Self.contact(5).id, untilMs: 600, nowMs: 40)
        #expect(banned.count == 3)
        #expect(!banned.excludes(Self.contact(3), nowMs: 40), "the ban ending soonest made room")
        #expect([2, 4, 5].allSatisfy { banned.excludes(Self.contact($0), nowMs: 40) })
    }

    /// Host bans: two ending together are told apart by their bytes (the smaller goes first), and
    /// a host ban covers every port.
    @Test func hostBansEvictDeterministically() {
        var banned = BannedContacts(limit: 2)
        let (a, b, c) = (PeerAddress.ipv4(10, 0, 1, 1, port: 1), PeerAddress.ipv4(10, 0, 2, 1, port: 1),
                         PeerAddress.ipv4(10, 0, 3, 1, port: 1))
        banned.ban(host: b.reputationHost, untilMs: 100, nowMs: 0)
        banned.ban(host: a.reputationHost, untilMs: 100, nowMs: 0)
        banned.ban(host: c.reputationHost, untilMs: 200, nowMs: 0)
        #expect(!banned.excludes(address: a, nowMs: 1))
        #expect(banned.excludes(address: .ipv4(10, 0, 2, 1, port: 9), nowMs: 1))
        #expect(banned.excludes(address: c, nowMs: 199) && !banned.excludes(address: c, nowMs: 200))
    }
}
