import Testing
@testable import PRSMCore

/// The spread rule: a full bucket keeps its contacts spread over the regions of its range, so a
/// far bucket filled from one corner of the id space by a refresh lookup does not stay there.
struct RoutingTableSpreadTests {
    /// k = 4, two regions per bucket, no liveness grace period.
    static func config(cache: Int = 3) -> RoutingTable.Config {
        var config = RoutingTable.Config.small(k: 4, cache: cache)
        config.spreadBits = 1
        return config
    }

    @Test func aNewcomerFromAnEmptierRegionDisplacesTheCrowdedRegionsOldestUntilBalanced() {
        var rng = RoutingTestRandom(seed: 31)
        var table = RoutingTable(ownID: rng.nodeID(), config: Self.config(), nowMs: 0)
        let corner = (0..<4).map { _ in rng.key(inBucket: 0, region: 0, of: table) }
        for (n, key) in corner.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(n)) }
        let contact = { (key: PublicKey, n: Int, ms: UInt64) in Contact(publicKey: key, address: distinctAddress(n), lastSeenMs: ms) }

        let (x, y, z) = (rng.key(inBucket: 0, region: 1, of: table), rng.key(inBucket: 0, region: 1, of: table),
                         rng.key(inBucket: 0, region: 1, of: table))
        #expect(table.recordAnswer(from: x, at: distinctAddress(10), nowMs: 10)
            == [.evicted(contact(corner[0], 0, 0)), .added(contact(x, 10, 10))])
        #expect(table.recordAnswer(from: y, at: distinctAddress(11), nowMs: 11)
            == [.evicted(contact(corner[1], 1, 1)), .added(contact(y, 11, 11))])
        // Balanced (2 and 2): the third is only a candidate, and the usual liveness ping follows.
        #expect(table.recordAnswer(from: z, at: distinctAddress(12), nowMs: 12) == [.ping(contact(corner[2], 2, 2))])
        #expect(table.contacts(inBucket: 0).map(\.id) == [corner[2], corner[3], x, y].map(\.nodeID))
        // The displaced contacts are alive: they wait in the cache behind the newest candidate.
        #expect(table.replacements(inBucket: 0).map(\.id) == [z, corner[1], corner[0]].map(\.nodeID))
        #expect(table.count == 4)
    }

    @Test func aBalancedBucketIsNotFlushedByNewcomers() {
        var rng = RoutingTestRandom(seed: 32)
        var table = RoutingTable(ownID: rng.nodeID(), config: Self.config(cache: 8), nowMs: 0)
        var members: [PublicKey] = []
        for region in [0, 1, 0, 1] { members.append(rng.key(inBucket: 0, region: region, of: table)) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0) }
        for n in 0..<6 {
            let effects = table.recordAnswer(from: rng.key(inBucket: 0, region: n % 2, of: table),
                                             at: distinctAddress(20 + n), nowMs: UInt64(10 + n))
            #expect(!effects.contains { if case .evicted = $0 { true } else { false } })
        }
        #expect(Set(table.contacts(inBucket: 0).map(\.id)) == Set(members.map(\.nodeID)))
    }

    @Test func aFreedSlotGoesToTheEmptiestRegionsCandidateEvenIfAnotherIsFresher() {
        var rng = RoutingTestRandom(seed: 33)
        var table = RoutingTable(ownID: rng.nodeID(), config: Self.config(), nowMs: 0)
        let members = [0, 0, 1, 1].map { rng.key(inBucket: 0, region: $0, of: table) }
        for (n, key) in members.enumerated() { _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0) }
        let (older, fresher) = (rng.key(inBucket: 0, region: 1, of: table), rng.key(inBucket: 0, region: 0, of: table))
        _ = table.recordAnswer(from: older, at: distinctAddress(10), nowMs: 10)
        _ = table.recordAnswer(from: fresher, at: distinctAddress(11), nowMs: 11)
        #expect(table.replacements(inBucket: 0).map(\.id) == [fresher, older].map(\.nodeID))

        // Region 1 loses a contact: its candidate takes the slot, not the fresher one of region 0.
        let added = table.recordFailure(of: members[2].nodeID, nowMs: 20).compactMap { effect -> NodeID? in
            if case let .added(contact) = effect { contact.id } else { nil }
        }
        #expect(added == [older.nodeID])
        #expect(table.isReplacement(fresher.nodeID))
    }

    /// A busy node pings strangers only when one could improve its table: with a full bucket and a
    /// full fresh cache, that is a stranger from a region the bucket lacks.
    @Test func aFullBucketWantsCandidatesOnlyFromRegionsItLacks() {
        var rng = RoutingTestRandom(seed: 34)
        var config = Self.config(cache: 1)
        config.livenessCheckAfterMs = 1_000
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        for n in 0..<5 { _ = table.recordAnswer(from: rng.key(inBucket: 0, region: 0, of: table), at: distinctAddress(n), nowMs: 0) }
        #expect(table.replacements(inBucket: 0).count == 1)
        #expect(!table.wantsCandidate(rng.key(inBucket: 0, region: 0, of: table).nodeID, nowMs: 10))
        #expect(table.wantsCandidate(rng.key(inBucket: 0, region: 1, of: table).nodeID, nowMs: 10))
    }

    @Test func regionsAreTheBitsAfterTheBucketsOwnBit() {
        var rng = RoutingTestRandom(seed: 35)
        var config = RoutingTable.Config()
        config.spreadBits = 3
        let table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        for bucket in [0, 5, 254, 255] {
            let id = flipping(table.ownID, bit: bucket)
            #expect(table.bucketIndex(of: id) == bucket)
            let expected = (1...3).reduce(0) { value, offset in
                let bit = bucket + offset
                let set = bit < 256 && id.bytes[bit / 8] & (UInt8(0x80) >> (bit % 8)) != 0
                return value << 1 | (set ? 1 : 0)
            }
            #expect(table.region(of: id, inBucket: bucket) == expected)
            if bucket < 255 {
                #expect(table.region(of: flipping(id, bit: bucket + 1), inBucket: bucket) == expected ^ 0b100)
            }
        }
    }
}
