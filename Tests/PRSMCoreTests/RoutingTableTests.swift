import Testing
@testable import PRSMCore

/// Bucket rules of the Kademlia routing table: placement, answer-only admission, replacement
/// cache with ping-before-evict, IP diversity, failures, removal and refresh bookkeeping.
struct RoutingTableTests {
    // MARK: Placement and admission

    @Test func contactsLandInTheBucketOfTheirCommonPrefixLength() {
        var rng = RoutingTestRandom(seed: 1)
        let own = rng.nodeID()
        var config = RoutingTable.Config()
        config.k = 1_000
        var table = RoutingTable(ownID: own, config: config, nowMs: 0)
        for n in 0..<300 {
            _ = table.recordAnswer(from: rng.key(), at: distinctAddress(n), nowMs: 1)
        }
        #expect(table.count == 300)
        for index in 0..<RoutingTable.bucketCount {
            for contact in table.contacts(inBucket: index) {
                #expect(own.commonPrefixLength(with: contact.id) == index)
            }
        }
        // Half the keyspace is in bucket 0, a quarter in bucket 1, ...
        #expect((120...180).contains(table.contacts(inBucket: 0).count))
        #expect((50...100).contains(table.contacts(inBucket: 1).count))
        for bit in [0, 1, 7, 8, 100, 254, 255] {
            #expect(table.bucketIndex(of: flipping(own, bit: bit)) == bit)
        }
        #expect(table.bucketIndex(of: own) == nil)
    }

    @Test func onlyAnAnswerInsertsARequestNeverDoes() {
        var rng = RoutingTestRandom(seed: 2)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(), nowMs: 0)
        let key = rng.key()
        let address = distinctAddress(1)

        table.recordRequest(from: key, at: address, nowMs: 5)
        #expect(table.count == 0)
        #expect(!table.contains(key.nodeID))
        #expect(!table.isReplacement(key.nodeID))

        let effects = table.recordAnswer(from: key, at: address, nowMs: 10)
        #expect(effects == [.added(Contact(publicKey: key, address: address, lastSeenMs: 10))])
        #expect(table.contact(for: key.nodeID)?.lastSeenMs == 10)

        // Its requests refresh it, but only from the address it answered from.
        table.recordRequest(from: key, at: distinctAddress(2), nowMs: 20)
        #expect(table.contact(for: key.nodeID)?.lastSeenMs == 10)
        table.recordRequest(from: key, at: address, nowMs: 30)
        #expect(table.contact(for: key.nodeID)?.lastSeenMs == 30)

        // Answering again is not news.
        #expect(table.recordAnswer(from: key, at: address, nowMs: 40).isEmpty)
        #expect(table.count == 1)
    }

    @Test func ownIDIsRefusedEverywhere() {
        var rng = RoutingTestRandom(seed: 3)
        let ownKey = rng.key()
        let own = ownKey.nodeID
        var table = RoutingTable(ownID: own, config: .small(), nowMs: 0)
        #expect(table.recordAnswer(from: ownKey, at: distinctAddress(1), nowMs: 1) == [.refused(own, .ownID)])
        table.recordRequest(from: ownKey, at: distinctAddress(1), nowMs: 2)
        #expect(table.count == 0)
        #expect(!table.contains(own))
        #expect(table.remove(own) == [.refused(own, .ownID)])
        #expect(table.recordFailure(of: own, nowMs: 3).isEmpty)
        #expect(table.closest(to: own, count: 20).isEmpty)
    }

    // MARK: Full buckets, replacement cache, eviction

    @Test func fullBucketCachesTheNewcomerAndAsksToPingTheLeastRecentlySeen() {
        var rng = RoutingTestRandom(seed: 4)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 4, cache: 3), nowMs: 0)
        let members = (0..<4).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in members.enumerated() {
            let effects = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(n))
            #expect(effects == [.added(Contact(publicKey: key, address: distinctAddress(n), lastSeenMs: UInt64(n)))])
        }
        let oldest = Contact(publicKey: members[0], address: distinctAddress(0), lastSeenMs: 0)
        #expect(table.contacts(inBucket: 0).first == oldest)

        let newcomer = rng.key(inBucket: 0, of: table)
        #expect(table.recordAnswer(from: newcomer, at: distinctAddress(10), nowMs: 100) == [.ping(oldest)])
        #expect(!table.contains(newcomer.nodeID))
        #expect(table.replacements(inBucket: 0).map(\.id) == [newcomer.nodeID])
        #expect(table.pendingLivenessCheck(inBucket: 0) == oldest.id)
        #expect(table.count == 4)

        // While that check is out, more newcomers are cached without another ping.
        let second = rng.key(inBucket: 0, of: table)
        #expect(table.recordAnswer(from: second, at: distinctAddress(11), nowMs: 101).isEmpty)
        #expect(table.replacements(inBucket: 0).map(\.id) == [second.nodeID, newcomer.nodeID])
    }

    @Test func recentlySeenEntriesAreNotPingedAndUnreportedChecksExpire() {
        var rng = RoutingTestRandom(seed: 5)
        var config = RoutingTable.Config.small(k: 2, cache: 5)
        config.livenessCheckAfterMs = 1_000
        config.livenessCheckTimeoutMs = 50
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        let members = (0..<2).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0) }
        let oldest = table.contacts(inBucket: 0)[0]

        // The oldest entry answered 500 ms ago: trusted, so the newcomer is only cached.
        #expect(table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(10), nowMs: 500).isEmpty)
        #expect(table.pendingLivenessCheck(inBucket: 0) == nil)
        #expect(table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(11), nowMs: 1_000)
            == [.ping(oldest)])
        // The shell never reports: within the timeout no second ping, after it one more.
        #expect(table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(12), nowMs: 1_049).isEmpty)
        #expect(table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(13), nowMs: 1_050)
            == [.ping(oldest)])
        // An unreported check never evicts by itself.
        #expect(table.contains(oldest.id))
    }

    @Test func evictionHappensOnlyAfterTheFailedPing() {
        var rng = RoutingTestRandom(seed: 6)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 4, cache: 3), nowMs: 0)
        let members = (0..<4).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(n)) }
        let newcomer = rng.key(inBucket: 0, of: table)
        #expect(table.recordAnswer(from: newcomer, at: distinctAddress(10), nowMs: 100)
            == [.ping(Contact(publicKey: members[0], address: distinctAddress(0), lastSeenMs: 0))])

        // Time passes, others answer: the pinged entry stays until its ping is reported.
        #expect(table.recordAnswer(from: members[2], at: distinctAddress(2), nowMs: 150).isEmpty)
        #expect(table.contains(members[0].nodeID))

        // It answers: it becomes the most recently seen; the newcomer stays in the cache.
        #expect(table.recordAnswer(from: members[0], at: distinctAddress(0), nowMs: 200).isEmpty)
        #expect(table.contacts(inBucket: 0).map(\.id)
            == [members[1], members[3], members[2], members[0]].map(\.nodeID))
        #expect(table.isReplacement(newcomer.nodeID))
        #expect(!table.contains(newcomer.nodeID))
        #expect(table.pendingLivenessCheck(inBucket: 0) == nil)

        // The next newcomer pings the new least-recently-seen entry, whose ping fails.
        let next = rng.key(inBucket: 0, of: table)
        let member1 = Contact(publicKey: members[1], address: distinctAddress(1), lastSeenMs: 1)
        #expect(table.recordAnswer(from: next, at: distinctAddress(11), nowMs: 250) == [.ping(member1)])
        #expect(table.recordFailure(of: members[1].nodeID, nowMs: 300)
            == [.evicted(member1), .added(Contact(publicKey: next, address: distinctAddress(11), lastSeenMs: 250))])
        #expect(!table.contains(members[1].nodeID))
        #expect(table.contains(next.nodeID))
        #expect(table.replacements(inBucket: 0).map(\.id) == [newcomer.nodeID])
        #expect(table.count == 4)
        // Entries stay ordered by when they were last seen.
        #expect(table.contacts(inBucket: 0).map(\.lastSeenMs) == [3, 150, 200, 250])
    }

    @Test func freshestReplacementIsPromotedFirst() {
        var rng = RoutingTestRandom(seed: 7)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 2, cache: 3), nowMs: 0)
        let members = (0..<2).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(n)) }
        let (a, b, c) = (rng.key(inBucket: 0, of: table), rng.key(inBucket: 0, of: table), rng.key(inBucket: 0, of: table))
        _ = table.recordAnswer(from: a, at: distinctAddress(10), nowMs: 10)
        _ = table.recordAnswer(from: b, at: distinctAddress(11), nowMs: 11)
        _ = table.recordAnswer(from: c, at: distinctAddress(12), nowMs: 12)
        #expect(table.replacements(inBucket: 0).map(\.id) == [c, b, a].map(\.nodeID))
        // a answers again: it moves to the front of the cache and is still not "added".
        #expect(table.recordAnswer(from: a, at: distinctAddress(10), nowMs: 13).isEmpty)
        #expect(table.replacements(inBucket: 0).map(\.id) == [a, c, b].map(\.nodeID))

        let added: (RoutingTable.Effect) -> NodeID? = { if case let .added(contact) = $0 { contact.id } else { nil } }
        #expect(table.recordFailure(of: members[0].nodeID, nowMs: 20).compactMap(added) == [a.nodeID])
        #expect(table.recordFailure(of: members[1].nodeID, nowMs: 21).compactMap(added) == [c.nodeID])
        #expect(table.recordFailure(of: a.nodeID, nowMs: 22).compactMap(added) == [b.nodeID])
        #expect(table.replacements(inBucket: 0).isEmpty)
        #expect(table.contacts(inBucket: 0).map(\.id) == [b, c].map(\.nodeID))
    }

    @Test func replacementCacheIsBoundedDeduplicatedAndDropsTheOldest() {
        var rng = RoutingTestRandom(seed: 8)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 2, cache: 3), nowMs: 0)
        for n in 0..<2 { _ = table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(n), nowMs: 0) }
        let waiting = (0..<6).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in waiting.enumerated() {
            _ = table.recordAnswer(from: key, at: distinctAddress(10 + n), nowMs: UInt64(10 + n))
        }
        #expect(table.replacements(inBucket: 0).map(\.id) == [waiting[5], waiting[4], waiting[3]].map(\.nodeID))
        // A repeat answer refreshes its place and address; it is never stored twice.
        _ = table.recordAnswer(from: waiting[3], at: distinctAddress(99), nowMs: 30)
        _ = table.recordAnswer(from: waiting[3], at: distinctAddress(99), nowMs: 31)
        #expect(table.replacements(inBucket: 0).map(\.id) == [waiting[3], waiting[5], waiting[4]].map(\.nodeID))
        #expect(table.replacements(inBucket: 0).first?.address == distinctAddress(99))
        #expect(table.replacements(inBucket: 0).first?.lastSeenMs == 31)
        #expect(table.replacementCount == 3)

        var bare = RoutingTable(ownID: rng.nodeID(), config: .small(k: 1, cache: 0), nowMs: 0)
        _ = bare.recordAnswer(from: rng.key(inBucket: 0, of: bare), at: distinctAddress(1), nowMs: 0)
        // No cache: nothing to promote, so no ping either.
        #expect(bare.recordAnswer(from: rng.key(inBucket: 0, of: bare), at: distinctAddress(2), nowMs: 5).isEmpty)
        #expect(bare.replacementCount == 0)
    }

    /// A busy node is asked by many strangers; pinging each costs a signed round trip. Only a
    /// bucket with room, a cache with room, or a cache gone stale wants another candidate.
    @Test func aFullBucketWithAFullFreshCacheWantsNoNewCandidate() {
        var rng = RoutingTestRandom(seed: 21)
        var config = RoutingTable.Config.small(k: 2, cache: 2)
        config.livenessCheckAfterMs = 1_000
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        let stranger = rng.key(inBucket: 0, of: table).nodeID
        #expect(table.wantsCandidate(stranger, nowMs: 0), "an empty bucket has room")
        #expect(!table.wantsCandidate(table.ownID, nowMs: 0))
        for n in 0..<2 { _ = table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(n), nowMs: 0) }
        #expect(table.wantsCandidate(stranger, nowMs: 10), "the cache has room")
        _ = table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(10), nowMs: 100)
        _ = table.recordAnswer(from: rng.key(inBucket: 0, of: table), at: distinctAddress(11), nowMs: 200)
        #expect(table.replacements(inBucket: 0).count == 2)
        #expect(!table.wantsCandidate(stranger, nowMs: 300))
        #expect(!table.wantsCandidate(stranger, nowMs: 1_199))
        #expect(table.wantsCandidate(stranger, nowMs: 1_200), "the freshest candidate is a full interval old")
        #expect(table.wantsCandidate(rng.key(inBucket: 1, of: table).nodeID, nowMs: 300), "another bucket has room")
    }

    /// The Python `kademlia` lesson: a contact parked in a cache counted as new on every message
    /// and re-triggered replication forever. Here repeated answers add nothing and ping nothing.
    @Test func repeatedAnswersNeverCountAsNewNorStormPings() {
        var rng = RoutingTestRandom(seed: 9)
        var config = RoutingTable.Config()
        config.k = 3
        config.replacementCacheSize = 4
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        let members = (0..<3).map { _ in rng.key(inBucket: 0, of: table) }
        let waiting = (0..<4).map { _ in rng.key(inBucket: 0, of: table) }
        var added = 0
        var pings = 0
        for (n, key) in (members + waiting).enumerated() {
            for effect in table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0) {
                if case .added = effect { added += 1 }
            }
        }
        #expect(added == 3)
        added = 0
        for round in 1...1_000 {
            for (n, key) in (members + waiting).enumerated() {
                for effect in table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(round * 1_000)) {
                    if case .added = effect { added += 1 }
                    if case .ping = effect { pings += 1 }
                }
            }
        }
        #expect(added == 0)
        #expect(pings == 0)
        #expect(table.count == 3)
        #expect(table.replacementCount == 4)
    }

    // MARK: Failures and removal

    @Test func failuresWithoutReplacementKeepTheEntryUntilTheLimit() {
        var rng = RoutingTestRandom(seed: 10)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 4, cache: 3), nowMs: 0)
        let key = rng.key()
        let contact = Contact(publicKey: key, address: distinctAddress(1), lastSeenMs: 0)
        _ = table.recordAnswer(from: key, at: contact.address, nowMs: 0)
        for step in 1...4 {
            #expect(table.recordFailure(of: key.nodeID, nowMs: UInt64(step)).isEmpty)
        }
        #expect(table.contains(key.nodeID))
        // An answer resets the count.
        _ = table.recordAnswer(from: key, at: contact.address, nowMs: 10)
        for step in 1...4 { #expect(table.recordFailure(of: key.nodeID, nowMs: UInt64(10 + step)).isEmpty) }
        var refreshed = contact
        refreshed.lastSeenMs = 10
        #expect(table.recordFailure(of: key.nodeID, nowMs: 20) == [.evicted(refreshed)])
        #expect(table.count == 0)
        // Unknown ids are ignored.
        #expect(table.recordFailure(of: rng.nodeID(), nowMs: 21).isEmpty)
    }

    @Test func failingReplacementIsForgotten() {
        var rng = RoutingTestRandom(seed: 11)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 1, cache: 3), nowMs: 0)
        let member = rng.key(inBucket: 0, of: table)
        _ = table.recordAnswer(from: member, at: distinctAddress(0), nowMs: 0)
        let waiting = rng.key(inBucket: 0, of: table)
        _ = table.recordAnswer(from: waiting, at: distinctAddress(1), nowMs: 5)
        #expect(table.recordFailure(of: waiting.nodeID, nowMs: 6).isEmpty)
        #expect(table.replacementCount == 0)
        // With nobody waiting, the pinged member's failure does not empty the bucket.
        #expect(table.recordFailure(of: member.nodeID, nowMs: 7).isEmpty)
        #expect(table.contains(member.nodeID))
    }

    @Test func removeFillsTheSlotFromTheCache() {
        var rng = RoutingTestRandom(seed: 12)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 2, cache: 3), nowMs: 0)
        let members = (0..<2).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0) }
        let (a, b) = (rng.key(inBucket: 0, of: table), rng.key(inBucket: 0, of: table))
        _ = table.recordAnswer(from: a, at: distinctAddress(10), nowMs: 5)
        _ = table.recordAnswer(from: b, at: distinctAddress(11), nowMs: 6)
        #expect(table.remove(members[1].nodeID) == [
            .evicted(Contact(publicKey: members[1], address: distinctAddress(1), lastSeenMs: 0)),
            .added(Contact(publicKey: b, address: distinctAddress(11), lastSeenMs: 6)),
        ])
        #expect(table.remove(a.nodeID).isEmpty)
        #expect(!table.isReplacement(a.nodeID))
        #expect(table.remove(rng.nodeID()).isEmpty)
        #expect(table.count == 2)
    }

    // MARK: IP diversity

    @Test func ipDiversityLimitsPerBucket() {
        var rng = RoutingTestRandom(seed: 13)
        var table = RoutingTable(ownID: rng.nodeID(), nowMs: 0)
        let keys = (0..<4).map { _ in rng.key(inBucket: 0, of: table) }
        let sameSlash24 = (1...3).map { PeerAddress.ipv4(192, 0, 2, UInt8($0), port: 7000) }
        #expect(table.recordAnswer(from: keys[0], at: sameSlash24[0], nowMs: 0).count == 1)
        #expect(table.recordAnswer(from: keys[1], at: sameSlash24[1], nowMs: 0).count == 1)
        #expect(table.recordAnswer(from: keys[2], at: sameSlash24[2], nowMs: 0) == [.refused(keys[2].nodeID, .bucketPrefixLimit)])
        #expect(!table.contains(keys[2].nodeID))
        #expect(!table.isReplacement(keys[2].nodeID))
        // Another /24 is welcome.
        #expect(table.recordAnswer(from: keys[2], at: .ipv4(192, 0, 3, 1, port: 7000), nowMs: 0).count == 1)

        // IPv6: the limit is per /48.
        let v6 = (0..<3).map { _ in rng.key(inBucket: 0, of: table) }
        func address(_ bytes: [UInt8]) -> PeerAddress { PeerAddress(host: .v6(bytes + [UInt8](repeating: 0, count: 16 - bytes.count)), port: 1) }
        #expect(table.recordAnswer(from: v6[0], at: address([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), nowMs: 0).count == 1)
        #expect(table.recordAnswer(from: v6[1], at: address([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xff, 0xff]), nowMs: 0).count == 1)
        #expect(table.recordAnswer(from: v6[2], at: address([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x12]), nowMs: 0)
            == [.refused(v6[2].nodeID, .bucketPrefixLimit)])
        #expect(table.recordAnswer(from: v6[2], at: address([0x20, 0x01, 0x0d, 0xb8, 0, 2]), nowMs: 0).count == 1)
    }

    @Test func ipDiversityLimitsPerTable() {
        var rng = RoutingTestRandom(seed: 14)
        var table = RoutingTable(ownID: rng.nodeID(), nowMs: 0)
        let crowded = PeerAddress.ipv4(203, 0, 113, 1, port: 7000)
        var perBucket = [Int](repeating: 0, count: 256)
        var accepted: [PublicKey] = []
        while accepted.count < 10 {
            let key = rng.key()
            let index = table.bucketIndex(of: key.nodeID)!
            guard perBucket[index] < 2 else { continue }
            perBucket[index] += 1
            #expect(table.recordAnswer(from: key, at: crowded, nowMs: 0).count == 1)
            accepted.append(key)
        }
        var extra = rng.key()
        while perBucket[table.bucketIndex(of: extra.nodeID)!] >= 2 { extra = rng.key() }
        #expect(table.recordAnswer(from: extra, at: crowded, nowMs: 1) == [.refused(extra.nodeID, .tablePrefixLimit)])
        #expect(table.count == 10)
        // Once one leaves, the next fits.
        _ = table.remove(accepted[0].nodeID)
        #expect(table.recordAnswer(from: extra, at: crowded, nowMs: 2).count == 1)
        #expect(table.count == 10)
    }

    @Test func cacheHoldsFewContactsPerPrefixAndMovesRespectLimits() {
        var rng = RoutingTestRandom(seed: 15)
        var table = RoutingTable(ownID: rng.nodeID(), config: .small(k: 3, cache: 10), nowMs: 0)
        let members = (0..<3).map { _ in rng.key(inBucket: 0, of: table) }
        let addresses = [PeerAddress.ipv4(192, 0, 2, 1, port: 1), .ipv4(192, 0, 2, 2, port: 1), .ipv4(198, 51, 100, 1, port: 1)]
        for (key, address) in zip(members, addresses) { _ = table.recordAnswer(from: key, at: address, nowMs: 0) }

        // A cache flooded from one /24 keeps only the latest maxPerPrefixPerBucket of it.
        let flood = (0..<5).map { _ in rng.key(inBucket: 0, of: table) }
        for (n, key) in flood.enumerated() {
            _ = table.recordAnswer(from: key, at: .ipv4(100, 64, 0, UInt8(n + 1), port: 1), nowMs: UInt64(n + 1))
        }
        #expect(table.replacements(inBucket: 0).map(\.id) == [flood[4], flood[3]].map(\.nodeID))

        // A member moving into a /24 this bucket already holds twice no longer fits.
        let moved = Contact(publicKey: members[2], address: addresses[2], lastSeenMs: 0)
        let effects = table.recordAnswer(from: members[2], at: .ipv4(192, 0, 2, 3, port: 1), nowMs: 10)
        #expect(effects == [
            .evicted(moved),
            .refused(members[2].nodeID, .bucketPrefixLimit),
            .added(Contact(publicKey: flood[4], address: .ipv4(100, 64, 0, 5, port: 1), lastSeenMs: 5)),
        ])
        // A move within the limits just updates the address.
        #expect(table.recordAnswer(from: members[0], at: .ipv4(198, 18, 0, 1, port: 2), nowMs: 11).isEmpty)
        #expect(table.contact(for: members[0].nodeID)?.address == .ipv4(198, 18, 0, 1, port: 2))
    }

    // MARK: Refresh bookkeeping

    @Test func bucketsIdleLongerThanTheIntervalNeedRefresh() {
        var rng = RoutingTestRandom(seed: 16)
        var config = RoutingTable.Config()
        config.bucketRefreshIntervalMs = 1_000
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 100)
        #expect(table.bucketsNeedingRefresh(nowMs: 10_000).isEmpty)  // empty table: join instead

        for n in 0..<64 { _ = table.recordAnswer(from: rng.key(), at: distinctAddress(n), nowMs: 100) }
        let deepest = (0..<256).last { !table.contacts(inBucket: $0).isEmpty }!
        #expect(deepest >= 3)
        #expect(table.bucketsNeedingRefresh(nowMs: 1_099).isEmpty)
        #expect(table.bucketsNeedingRefresh(nowMs: 1_100) == Array(0...deepest))

        let target = table.refreshTarget(forBucket: 1, randomBytes: rng.bytes(32))
        table.recordLookup(of: target, nowMs: 1_500)
        #expect(table.lastLookupMs(ofBucket: 1) == 1_500)
        #expect(table.bucketsNeedingRefresh(nowMs: 2_000) == Array(0...deepest).filter { $0 != 1 })
        #expect(table.bucketsNeedingRefresh(nowMs: 2_500) == Array(0...deepest))

        // A lookup of our own id refreshes the deepest bucket.
        table.recordLookup(of: table.ownID, nowMs: 3_000)
        #expect(table.lastLookupMs(ofBucket: 255) == 3_000)
        // Time going backwards never un-refreshes a bucket.
        table.recordLookup(of: target, nowMs: 10)
        #expect(table.lastLookupMs(ofBucket: 1) == 1_500)
    }

    @Test func refreshTargetsFallInTheirBucketAndDependOnlyOnTheGivenBytes() {
        var rng = RoutingTestRandom(seed: 17)
        let table = RoutingTable(ownID: rng.nodeID(), nowMs: 0)
        for index in 0..<RoutingTable.bucketCount {
            let bytes = rng.bytes(32)
            let target = table.refreshTarget(forBucket: index, randomBytes: bytes)
            #expect(table.bucketIndex(of: target) == index)
            #expect(table.refreshTarget(forBucket: index, randomBytes: bytes) == target)
            if index < 200 {
                #expect(table.refreshTarget(forBucket: index, randomBytes: rng.bytes(32)) != target)
            }
            // Bits after the flipped one are the caller's.
            let tail = (index + 1)..<256
            let bit = { (id: [UInt8], i: Int) in (id[i / 8] >> (7 - i % 8)) & 1 }
            #expect(tail.allSatisfy { bit(target.bytes, $0) == bit(bytes, $0) })
        }
    }
}
