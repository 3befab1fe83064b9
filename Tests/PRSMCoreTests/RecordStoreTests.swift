import Testing
@testable import PRSMCore

struct RecordStoreTests {
    let alice = try! SigningKey(seed: [UInt8](repeating: 1, count: 32)).publicKey
    let bob = try! SigningKey(seed: [UInt8](repeating: 2, count: 32)).publicKey
    let carol = try! SigningKey(seed: [UInt8](repeating: 3, count: 32)).publicKey

    /// A distinct value for each `index`, `size` bytes long (at least 2).
    func value(_ index: Int, size: Int = 10) -> [UInt8] {
        [UInt8(index & 0xff), UInt8(index >> 8)] + [UInt8](repeating: 0xaa, count: size - 2)
    }

    func key(_ value: [UInt8]) -> Digest32 { Blake2b.hash256(value) }

    func config(_ change: (inout RecordStore.Config) -> Void) -> RecordStore.Config {
        var config = RecordStore.Config()
        change(&config)
        return config
    }

    /// Internal bookkeeping that must hold after every operation.
    func checkInvariants(_ store: RecordStore, sourceLocation: SourceLocation = #_sourceLocation) {
        let records = store.records.values
        #expect(store.totalBytes == records.reduce(0) { $0 + $1.value.count }, sourceLocation: sourceLocation)
        #expect(records.allSatisfy { $0.key == Blake2b.hash256($0.value) }, sourceLocation: sourceLocation)
        var charged: [PublicKey: Int] = [:]
        for record in records { if let publisher = record.publisher { charged[publisher, default: 0] += 1 } }
        #expect(store.perPublisher == charged, sourceLocation: sourceLocation)
        #expect(store.perPublisher.count <= store.count, sourceLocation: sourceLocation)
        let remote = records.filter { $0.publisher != nil }.count
        #expect(store.expiryQueue.count <= 2 * remote + 65, sourceLocation: sourceLocation)
    }

    // MARK: - Basics

    @Test func defaultsMatchTheDesign() {
        let config = RecordStore.Config()
        #expect(config.maxRecords == 20_000)
        #expect(config.maxBytes == 16 << 20)
        #expect(config.maxRecordsPerPeer == 256)
        #expect(config.recordTTLMs == 86_400_000)
        #expect(config.republishIntervalMs == 3_600_000)
    }

    @Test func storedValueIsHeldUnderItsHash() {
        var store = RecordStore()
        let v = value(1, size: 30)
        #expect(store.store(v, from: alice, nowMs: 1_000) == .stored)
        #expect(store.value(for: key(v), nowMs: 1_000) == v)
        #expect(store.value(for: key(value(2)), nowMs: 1_000) == nil)
        #expect(store.count == 1)
        #expect(store.totalBytes == 30)
        #expect(store.count(from: alice) == 1)
        #expect(store.count(from: bob) == 0)
        #expect(store.record(for: key(v)) == DHTRecord(key: key(v), value: v, publisher: alice, storedAtMs: 1_000,
                                                      expiresAtMs: 1_000 + 86_400_000, lastReplicatedMs: 1_000))
        checkInvariants(store)
    }

    @Test func emptyValueIsARecordLikeAnyOther() {
        var store = RecordStore()
        #expect(store.store([], from: alice, nowMs: 0) == .stored)
        #expect(store.value(for: key([]), nowMs: 0) == [])
        #expect(store.count == 1)
        #expect(store.totalBytes == 0)
    }

    @Test func keysAreSorted() {
        var store = RecordStore()
        var expected: [Digest32] = []
        for i in 0..<40 {
            let v = value(i)
            expected.append(key(v))
            if i % 3 == 0 { store.storeLocal(v, nowMs: 0) } else { _ = store.store(v, from: alice, nowMs: 0) }
        }
        #expect(store.keys.count == 40)
        #expect(store.keys == expected.sorted())
        #expect(store.keys != expected)  // the insertion order was not already sorted
    }

    // MARK: - Value size

    /// Values longer than DHTLimits.maxValueSize never get past `StoreRequest.decode`; a remote one
    /// reaching the store anyway is refused with .storeFull (never a trap on remote input).
    @Test func remoteValueOverMaxSizeIsRefused() {
        var store = RecordStore()
        let tooBig = [UInt8](repeating: 7, count: DHTLimits.maxValueSize + 1)
        #expect(store.store(tooBig, from: alice, nowMs: 0) == .storeFull)
        #expect(store.count == 0)
        #expect(store.totalBytes == 0)
        #expect(store.count(from: alice) == 0)
        let largest = [UInt8](repeating: 7, count: DHTLimits.maxValueSize)
        #expect(store.store(largest, from: alice, nowMs: 0) == .stored)
        #expect(store.totalBytes == DHTLimits.maxValueSize)
    }

    @Test func wireDecoderBoundsStoredValues() throws {
        var writer = WireWriter()
        StoreRequest(header: DHTRequestHeader(requestID: 1, serverMode: false),
                     value: [UInt8](repeating: 0, count: DHTLimits.maxValueSize + 1)).encode(into: &writer)
        var reader = WireReader(bytes: writer.bytesWritten)
        #expect(throws: WireError.self) { _ = try StoreRequest.decode(from: &reader) }
    }

    @Test func localValueOverMaxSizeIsAProgrammerError() async {
        await #expect(processExitsWith: .failure) {
            var store = RecordStore()
            store.storeLocal([UInt8](repeating: 0, count: DHTLimits.maxValueSize + 1), nowMs: 0)
        }
    }

    // MARK: - Per-peer quota

    @Test func perPeerQuotaRefusesNewRecordsOnly() {
        var store = RecordStore(config: config { $0.maxRecordsPerPeer = 3 })
        for i in 0..<3 { #expect(store.store(value(i), from: alice, nowMs: 0) == .stored) }
        #expect(store.store(value(3), from: alice, nowMs: 0) == .peerQuotaFull)
        #expect(store.value(for: key(value(3)), nowMs: 0) == nil)
        #expect(store.count(from: alice) == 3)
        #expect(store.count == 3)
        // Another peer has its own quota.
        #expect(store.store(value(3), from: bob, nowMs: 0) == .stored)
        #expect(store.count(from: bob) == 1)
        // Re-storing a key already held is not a new record, even for a peer at its quota.
        #expect(store.store(value(0), from: alice, nowMs: 10) == .stored)
        #expect(store.store(value(3), from: alice, nowMs: 10) == .stored)
        #expect(store.count(from: alice) == 3)
        #expect(store.count(from: bob) == 1)
        checkInvariants(store)
    }

    @Test func quotaFreesUpWhenRecordsExpire() {
        var store = RecordStore(config: config {
            $0.maxRecordsPerPeer = 2
            $0.recordTTLMs = 100
        })
        _ = store.store(value(0), from: alice, nowMs: 0)
        _ = store.store(value(1), from: alice, nowMs: 50)
        #expect(store.store(value(2), from: alice, nowMs: 60) == .peerQuotaFull)
        #expect(store.expire(nowMs: 100) == 1)
        #expect(store.count(from: alice) == 1)
        #expect(store.store(value(2), from: alice, nowMs: 100) == .stored)
        #expect(store.expire(nowMs: 10_000) == 2)
        #expect(store.count(from: alice) == 0)
        #expect(store.perPublisher.isEmpty)
        checkInvariants(store)
    }

    // MARK: - Re-store

    @Test func reStoreRefreshesExpiryWithoutDoubleCounting() {
        var store = RecordStore(config: config { $0.recordTTLMs = 1_000 })
        let v = value(1, size: 50)
        #expect(store.store(v, from: alice, nowMs: 0) == .stored)
        #expect(store.store(v, from: bob, nowMs: 600) == .stored)
        #expect(store.store(v, from: alice, nowMs: 500) == .stored)  // an earlier time never shortens it
        #expect(store.count == 1)
        #expect(store.totalBytes == 50)
        #expect(store.count(from: alice) == 1)  // the first storer stays charged
        #expect(store.count(from: bob) == 0)
        #expect(store.record(for: key(v))?.expiresAtMs == 1_600)
        #expect(store.record(for: key(v))?.storedAtMs == 0)
        #expect(store.value(for: key(v), nowMs: 1_500) == v)  // past the first expiry
        #expect(store.expire(nowMs: 1_599) == 0)
        #expect(store.expire(nowMs: 1_600) == 1)
        #expect(store.count(from: alice) == 0)
        checkInvariants(store)
    }

    @Test func reStoreOfAnExpiredCopyIsAFreshStore() {
        var store = RecordStore(config: config { $0.recordTTLMs = 1_000 })
        let v = value(1)
        _ = store.store(v, from: alice, nowMs: 0)
        #expect(store.value(for: key(v), nowMs: 1_000) == nil)
        #expect(store.store(v, from: bob, nowMs: 1_000) == .stored)
        #expect(store.count == 1)
        #expect(store.count(from: alice) == 0)
        #expect(store.count(from: bob) == 1)
        #expect(store.record(for: key(v)) == DHTRecord(key: key(v), value: v, publisher: bob, storedAtMs: 1_000,
                                                      expiresAtMs: 2_000, lastReplicatedMs: 1_000))
        #expect(store.expire(nowMs: 1_999) == 0)  // the stale expiry entry removes nothing
        #expect(store.value(for: key(v), nowMs: 1_999) == v)
        checkInvariants(store)
    }

    @Test func remoteStoreOfOurOwnRecordChangesNothing() {
        var store = RecordStore()
        let v = value(1)
        store.storeLocal(v, nowMs: 5)
        let before = store.record(for: key(v))
        #expect(store.store(v, from: alice, nowMs: 100) == .stored)
        #expect(store.record(for: key(v)) == before)
        #expect(store.count(from: alice) == 0)
        #expect(store.count == 1)
    }

    // MARK: - Expiry

    @Test func remoteCopiesExpireAfterTheirTTL() {
        var store = RecordStore(config: config { $0.recordTTLMs = 1_000 })
        let a = value(1, size: 20), b = value(2, size: 30)
        _ = store.store(a, from: alice, nowMs: 0)
        _ = store.store(b, from: bob, nowMs: 400)
        #expect(store.value(for: key(a), nowMs: 999) == a)
        #expect(store.value(for: key(a), nowMs: 1_000) == nil)
        // Still held (and counted) until expire runs.
        #expect(store.count == 2)
        #expect(store.expire(nowMs: 999) == 0)
        #expect(store.expire(nowMs: 1_000) == 1)
        #expect(store.keys == [key(b)])
        #expect(store.totalBytes == 30)
        #expect(store.count(from: alice) == 0)
        #expect(store.expire(nowMs: 1_000) == 0)
        #expect(store.expire(nowMs: 1_400) == 1)
        #expect(store.count == 0)
        #expect(store.totalBytes == 0)
        #expect(store.perPublisher.isEmpty)
        #expect(store.expiryQueue.count == 0)
    }

    @Test func ownRecordsNeverExpire() {
        var store = RecordStore(config: config { $0.recordTTLMs = 1_000 })
        let mine = value(1)
        let theirs = value(2)
        let mineKey = store.storeLocal(mine, nowMs: 0)
        #expect(mineKey == key(mine))
        _ = store.store(theirs, from: alice, nowMs: 0)
        #expect(store.expire(nowMs: .max) == 1)
        #expect(store.keys == [mineKey])
        #expect(store.value(for: mineKey, nowMs: .max) == mine)
        #expect(store.record(for: mineKey)?.publisher == nil)
        #expect(store.record(for: mineKey)?.expiresAtMs == .max)
    }

    @Test func expiryNearTheEndOfTimeSaturates() {
        var store = RecordStore()
        let v = value(1)
        _ = store.store(v, from: alice, nowMs: .max - 5)
        #expect(store.record(for: key(v))?.expiresAtMs == .max)
        #expect(store.value(for: key(v), nowMs: .max - 1) == v)
    }

    // MARK: - Total quotas and eviction

    @Test func countQuotaEvictsTheRecordExpiringSoonest() {
        var store = RecordStore(config: config { $0.maxRecords = 3 })
        let (a, b, c, d, e) = (value(1), value(2), value(3), value(4), value(5))
        _ = store.store(a, from: alice, nowMs: 0)
        _ = store.store(b, from: bob, nowMs: 10)
        _ = store.store(c, from: carol, nowMs: 20)
        #expect(store.store(d, from: carol, nowMs: 30) == .stored)
        #expect(store.keys == [key(b), key(c), key(d)].sorted())
        #expect(store.count(from: alice) == 0)
        // Refreshing b makes c the soonest to expire.
        #expect(store.store(b, from: alice, nowMs: 40) == .stored)
        #expect(store.store(e, from: alice, nowMs: 50) == .stored)
        #expect(store.keys == [key(b), key(d), key(e)].sorted())
        #expect(store.count == 3)
        #expect(store.count(from: carol) == 1)
        checkInvariants(store)
    }

    @Test func evictionTiesGoToTheSmallestKey() {
        var store = RecordStore(config: config { $0.maxRecords = 2 })
        let (a, b) = (value(1), value(2))
        _ = store.store(a, from: alice, nowMs: 0)
        _ = store.store(b, from: bob, nowMs: 0)
        let smaller = min(key(a), key(b)), larger = max(key(a), key(b))
        #expect(store.store(value(3), from: carol, nowMs: 0) == .stored)
        #expect(store.keys == [larger, key(value(3))].sorted())
        #expect(store.value(for: smaller, nowMs: 0) == nil)
    }

    @Test func expiredCopiesAreEvictedFirst() {
        var store = RecordStore(config: config {
            $0.maxRecords = 2
            $0.recordTTLMs = 100
        })
        _ = store.store(value(1), from: alice, nowMs: 0)   // expires at 100
        _ = store.store(value(2), from: alice, nowMs: 90)  // expires at 190
        #expect(store.store(value(3), from: bob, nowMs: 150) == .stored)
        #expect(store.keys == [key(value(2)), key(value(3))].sorted())
    }

    @Test func byteQuotaEvictsAsManyAsNeededSoonestFirst() {
        var store = RecordStore(config: config { $0.maxBytes = 300 })
        let (a, b, c) = (value(1, size: 100), value(2, size: 100), value(3, size: 100))
        _ = store.store(a, from: alice, nowMs: 0)
        _ = store.store(b, from: alice, nowMs: 1)
        _ = store.store(c, from: alice, nowMs: 2)
        #expect(store.totalBytes == 300)
        // 1 byte more needs one eviction: a.
        #expect(store.store(value(4, size: 2), from: bob, nowMs: 3) == .stored)
        #expect(store.keys == [key(b), key(c), key(value(4, size: 2))].sorted())
        #expect(store.totalBytes == 202)
        // 250 bytes need two more evictions: b, then c (not the newer 2-byte record).
        #expect(store.store(value(5, size: 250), from: bob, nowMs: 4) == .stored)
        #expect(store.keys == [key(value(4, size: 2)), key(value(5, size: 250))].sorted())
        #expect(store.totalBytes == 252)
        checkInvariants(store)
    }

    @Test func ownRecordsAreNeverEvicted() {
        var store = RecordStore(config: config { $0.maxRecords = 3 })
        let mine = value(1)
        store.storeLocal(mine, nowMs: 0)                   // oldest, never expires
        _ = store.store(value(2), from: alice, nowMs: 10)
        _ = store.store(value(3), from: alice, nowMs: 20)
        #expect(store.store(value(4), from: bob, nowMs: 30) == .stored)
        #expect(store.store(value(5), from: bob, nowMs: 40) == .stored)
        #expect(store.keys == [key(mine), key(value(4)), key(value(5))].sorted())
    }

    @Test func storeFullWhenOnlyOwnRecordsAreHeld() {
        var store = RecordStore(config: config { $0.maxRecords = 2 })
        store.storeLocal(value(1), nowMs: 0)
        store.storeLocal(value(2), nowMs: 0)
        #expect(store.store(value(3), from: alice, nowMs: 0) == .storeFull)
        #expect(store.count == 2)
        #expect(store.count(from: alice) == 0)
        #expect(store.value(for: key(value(3)), nowMs: 0) == nil)
        checkInvariants(store)
    }

    @Test func storeFullEvictsNothingWhenEvictingEverythingWouldNotHelp() {
        var store = RecordStore(config: config { $0.maxBytes = 150 })
        store.storeLocal(value(1, size: 100), nowMs: 0)
        _ = store.store(value(2, size: 40), from: alice, nowMs: 0)
        // 100 own + 60 > 150 even with the remote record gone: refused, and the remote record stays.
        #expect(store.store(value(3, size: 60), from: bob, nowMs: 0) == .storeFull)
        #expect(store.count == 2)
        #expect(store.count(from: alice) == 1)
        #expect(store.totalBytes == 140)
        // 50 fits once the 40-byte remote record is evicted.
        #expect(store.store(value(4, size: 50), from: bob, nowMs: 0) == .stored)
        #expect(store.keys == [key(value(1, size: 100)), key(value(4, size: 50))].sorted())
        #expect(store.totalBytes == 150)
        checkInvariants(store)
    }

    @Test func localPutsEvictRemoteRecordsButNotOwnOnes() {
        var store = RecordStore(config: config { $0.maxRecords = 2 })
        _ = store.store(value(1), from: alice, nowMs: 0)
        store.storeLocal(value(2), nowMs: 0)
        store.storeLocal(value(3), nowMs: 0)
        #expect(store.keys == [key(value(2)), key(value(3))].sorted())
        #expect(store.count(from: alice) == 0)
        // With only own records left, our own put is still held (the caller bounds own puts).
        store.storeLocal(value(4), nowMs: 0)
        #expect(store.count == 3)
        #expect(store.store(value(5), from: alice, nowMs: 0) == .storeFull)
        checkInvariants(store)
    }

    @Test func localPutOfARemoteRecordMakesItOurs() {
        var store = RecordStore(config: config { $0.recordTTLMs = 1_000 })
        let v = value(1, size: 40)
        _ = store.store(v, from: alice, nowMs: 0)
        #expect(store.storeLocal(v, nowMs: 500) == key(v))
        #expect(store.count == 1)
        #expect(store.totalBytes == 40)
        #expect(store.count(from: alice) == 0)
        #expect(store.record(for: key(v)) == DHTRecord(key: key(v), value: v, publisher: nil, storedAtMs: 500,
                                                      expiresAtMs: .max, lastReplicatedMs: nil))
        #expect(store.expire(nowMs: 5_000) == 0)
        #expect(store.value(for: key(v), nowMs: 5_000) == v)
        checkInvariants(store)
    }

    @Test func localPutTwiceKeepsReplicationState() {
        var store = RecordStore()
        let k = store.storeLocal(value(1), nowMs: 0)
        store.markReplicated(k, nowMs: 10)
        #expect(store.storeLocal(value(1), nowMs: 20) == k)
        #expect(store.count == 1)
        #expect(store.record(for: k)?.lastReplicatedMs == 10)
        #expect(store.record(for: k)?.storedAtMs == 0)
    }

    // MARK: - Replication

    @Test func freshRemoteRecordIsNotDueUntilAnIntervalAfterItsStore() {
        var store = RecordStore(config: config { $0.republishIntervalMs = 1_000 })
        _ = store.store(value(1), from: alice, nowMs: 5_000)
        #expect(store.dueForReplication(nowMs: 5_000, limit: 10).isEmpty)
        #expect(store.dueForReplication(nowMs: 5_999, limit: 10).isEmpty)
        #expect(store.dueForReplication(nowMs: 6_000, limit: 10).map(\.key) == [key(value(1))])
    }

    @Test func freshLocalRecordIsDueImmediately() {
        var store = RecordStore(config: config { $0.republishIntervalMs = 1_000 })
        let k = store.storeLocal(value(1), nowMs: 5)
        #expect(store.dueForReplication(nowMs: 5, limit: 10).map(\.key) == [k])
        store.markReplicated(k, nowMs: 5)
        #expect(store.dueForReplication(nowMs: 1_004, limit: 10).isEmpty)
        #expect(store.dueForReplication(nowMs: 1_005, limit: 10).map(\.key) == [k])
        // Own records stay due forever after (they never expire).
        #expect(store.dueForReplication(nowMs: 10_000_000_000, limit: 10).map(\.key) == [k])
    }

    @Test func markReplicatedPostponesTheNextReplication() {
        var store = RecordStore(config: config { $0.republishIntervalMs = 1_000 })
        _ = store.store(value(1), from: alice, nowMs: 0)
        _ = store.store(value(2), from: alice, nowMs: 0)
        store.markReplicated(key(value(1)), nowMs: 1_500)
        #expect(store.dueForReplication(nowMs: 2_000, limit: 10).map(\.key) == [key(value(2))])
        #expect(store.dueForReplication(nowMs: 2_500, limit: 10).map(\.key).sorted()
            == [key(value(1)), key(value(2))].sorted())
        store.markReplicated(key(value(3)), nowMs: 2_500)  // unknown key: ignored
        #expect(store.count == 2)
    }

    @Test func reStoreCountsAsAReplication() {
        var store = RecordStore(config: config { $0.republishIntervalMs = 1_000 })
        _ = store.store(value(1), from: alice, nowMs: 0)
        _ = store.store(value(1), from: bob, nowMs: 900)
        #expect(store.dueForReplication(nowMs: 1_000, limit: 10).isEmpty)
        #expect(store.dueForReplication(nowMs: 1_900, limit: 10).count == 1)
    }

    @Test func dueRecordsAreOrderedByKeyAndBounded() {
        var store = RecordStore(config: config { $0.republishIntervalMs = 1_000 })
        var keys: [Digest32] = []
        for i in 0..<30 {
            if i.isMultiple(of: 2) {
                keys.append(store.storeLocal(value(i), nowMs: 0))
            } else {
                _ = store.store(value(i), from: alice, nowMs: 0)
                keys.append(key(value(i)))
            }
        }
        let all = store.dueForReplication(nowMs: 1_000, limit: 100)
        #expect(all.map(\.key) == keys.sorted())
        #expect(store.dueForReplication(nowMs: 1_000, limit: 7).map(\.key) == Array(keys.sorted().prefix(7)))
        #expect(store.dueForReplication(nowMs: 1_000, limit: 0).isEmpty)
        // Only the own records are due before the interval is up.
        #expect(store.dueForReplication(nowMs: 999, limit: 100).map(\.key)
            == keys.enumerated().filter { $0.offset.isMultiple(of: 2) }.map(\.element).sorted())
    }

    @Test func expiredCopiesAreNotReplicated() {
        var store = RecordStore(config: config {
            $0.republishIntervalMs = 1_000
            $0.recordTTLMs = 1_500
        })
        _ = store.store(value(1), from: alice, nowMs: 0)
        #expect(store.dueForReplication(nowMs: 1_499, limit: 10).count == 1)
        #expect(store.dueForReplication(nowMs: 1_500, limit: 10).isEmpty)
    }

    // MARK: - Against a reference model

    /// A seeded run of stores, re-stores, local puts and expiry under tight quotas, checked after
    /// every step against a naive model (linear scans), including the order of evictions.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func matchesNaiveModel(seed: UInt64) {
        let config = config {
            $0.maxRecords = 12
            $0.maxBytes = 400
            $0.maxRecordsPerPeer = 5
            $0.recordTTLMs = 1_000
            $0.republishIntervalMs = 300
        }
        var store = RecordStore(config: config)
        var model = NaiveStore(config: config)
        var rng = SplitMix64(seed: seed)
        let publishers = (10..<14).map { try! SigningKey(seed: [UInt8](repeating: UInt8($0), count: 32)).publicKey }
        let values = (0..<60).map { value($0, size: 2 + $0 * 7 % 80) }
        var now: UInt64 = 0
        var evictionsSeen = 0, refusals = 0

        for step in 0..<3_000 {
            now += rng.next() % 40
            let roll = rng.next() % 100
            let v = values[Int(rng.next() % UInt64(values.count))]
            switch roll {
            case 0..<70:
                let publisher = publishers[Int(rng.next() % UInt64(publishers.count))]
                let before = model.records.count
                let wasHeld = model.records[Blake2b.hash256(v)] != nil
                let status = store.store(v, from: publisher, nowMs: now)
                #expect(status == model.store(v, from: publisher, nowMs: now), "step \(step)")
                if status != .stored { refusals += 1 }
                if status == .stored && !wasHeld && model.records.count <= before { evictionsSeen += 1 }
            case 70..<75:
                // Our own puts come from a few small values, so they alone stay within the totals.
                let v = values[Int(rng.next() % 4)]
                #expect(store.storeLocal(v, nowMs: now) == model.storeLocal(v, nowMs: now), "step \(step)")
            case 75..<85:
                #expect(store.expire(nowMs: now) == model.expire(nowMs: now), "step \(step)")
            case 85..<95:
                let due = store.dueForReplication(nowMs: now, limit: 4)
                #expect(due == model.dueForReplication(nowMs: now, limit: 4), "step \(step)")
                for record in due.prefix(2) {
                    store.markReplicated(record.key, nowMs: now)
                    model.records[record.key]?.lastReplicatedMs = now
                }
            default:
                #expect(store.value(for: Blake2b.hash256(v), nowMs: now) == model.value(for: Blake2b.hash256(v), nowMs: now))
            }
            #expect(store.records == model.records, "step \(step)")
            if store.records != model.records { return }
            #expect(store.keys == model.records.keys.sorted())
            #expect(store.count <= config.maxRecords)
            #expect(store.totalBytes <= config.maxBytes)
            for publisher in publishers {
                #expect(store.count(from: publisher) == model.records.values.filter { $0.publisher == publisher }.count)
                #expect(store.count(from: publisher) <= config.maxRecordsPerPeer)
            }
            checkInvariants(store)
        }
        // The run exercised the interesting paths.
        #expect(evictionsSeen > 0)
        #expect(refusals > 0)
    }
}

/// The specified behaviour, written as plainly as possible.
private struct NaiveStore {
    let config: RecordStore.Config
    var records: [Digest32: DHTRecord] = [:]

    func isExpired(_ record: DHTRecord, _ nowMs: UInt64) -> Bool { record.publisher != nil && nowMs >= record.expiresAtMs }

    mutating func store(_ value: [UInt8], from publisher: PublicKey, nowMs: UInt64) -> StoreReply.Status {
        if value.count > DHTLimits.maxValueSize { return .storeFull }
        let key = Blake2b.hash256(value)
        if let existing = records[key] {
            if existing.publisher == nil { return .stored }
            if !isExpired(existing, nowMs) {
                records[key]!.expiresAtMs = max(existing.expiresAtMs, nowMs + config.recordTTLMs)
                records[key]!.lastReplicatedMs = max(existing.lastReplicatedMs ?? 0, nowMs)
                return .stored
            }
            records[key] = nil
        }
        if records.values.filter({ $0.publisher == publisher }).count >= config.maxRecordsPerPeer { return .peerQuotaFull }
        let own = records.values.filter { $0.publisher == nil }
        if own.count + 1 > config.maxRecords || own.reduce(0, { $0 + $1.value.count }) + value.count > config.maxBytes {
            return .storeFull
        }
        evict(toFit: value.count)
        records[key] = DHTRecord(key: key, value: value, publisher: publisher, storedAtMs: nowMs,
                                 expiresAtMs: nowMs + config.recordTTLMs, lastReplicatedMs: nowMs)
        return .stored
    }

    mutating func storeLocal(_ value: [UInt8], nowMs: UInt64) -> Digest32 {
        let key = Blake2b.hash256(value)
        if records[key]?.publisher == nil && records[key] != nil { return key }
        records[key] = nil
        evict(toFit: value.count)
        records[key] = DHTRecord(key: key, value: value, publisher: nil, storedAtMs: nowMs, expiresAtMs: .max,
                                 lastReplicatedMs: nil)
        return key
    }

    mutating func evict(toFit size: Int) {
        while records.count + 1 > config.maxRecords
            || records.values.reduce(0, { $0 + $1.value.count }) + size > config.maxBytes {
            let remote = records.values.filter { $0.publisher != nil }
            guard let victim = remote.min(by: { ($0.expiresAtMs, $0.key) < ($1.expiresAtMs, $1.key) }) else { return }
            records[victim.key] = nil
        }
    }

    mutating func expire(nowMs: UInt64) -> Int {
        let expired = records.values.filter { isExpired($0, nowMs) }
        for record in expired { records[record.key] = nil }
        return expired.count
    }

    func value(for key: Digest32, nowMs: UInt64) -> [UInt8]? {
        guard let record = records[key], !isExpired(record, nowMs) else { return nil }
        return record.value
    }

    func dueForReplication(nowMs: UInt64, limit: Int) -> [DHTRecord] {
        let due = records.values.filter { record in
            if isExpired(record, nowMs) { return false }
            guard let last = record.lastReplicatedMs else { return true }
            return nowMs >= last + config.republishIntervalMs
        }
        return Array(due.sorted { $0.key < $1.key }.prefix(limit))
    }
}

/// A small deterministic generator for the model test.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
