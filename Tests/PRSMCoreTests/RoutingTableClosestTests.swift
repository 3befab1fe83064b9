import Testing
@testable import PRSMCore

/// `closest()` against a brute-force sort, and the table's invariants under random inputs.
struct RoutingTableClosestTests {
    /// Every id, sorted by XOR distance to `target` the slow, obvious way.
    func bruteForce(_ ids: [NodeID], to target: NodeID) -> [NodeID] {
        ids.map { ($0, $0.distance(to: target)) }.sorted { $0.1 < $1.1 }.map(\.0)
    }

    func targets(for table: RoutingTable, contacts: [NodeID], rng: inout RoutingTestRandom, random: Int) -> [NodeID] {
        var targets = (0..<random).map { _ in rng.nodeID() }
        targets.append(table.ownID)
        targets += [0, 1, 2, 5, 9, 14, 30, 255].map { table.refreshTarget(forBucket: $0, randomBytes: rng.bytes(32)) }
        targets += contacts.prefix(5)
        return targets
    }

    @Test func xorDistanceOrdersLikeTheByteDistance() {
        var rng = RoutingTestRandom(seed: 99)
        for _ in 0..<2_000 {
            let (a, b, target) = (rng.nodeID(), rng.nodeID(), rng.nodeID())
            #expect(XORMetric.isCloser(a, than: b, to: target) == (a.distance(to: target) < b.distance(to: target)))
            #expect(XORMetric.Distance(a, target) == XORMetric.Distance(target, a))
        }
        let id = rng.nodeID()
        #expect(XORMetric.Distance(id, id) == XORMetric.Distance(flipping(id, bit: 3), flipping(id, bit: 3)))
        #expect(XORMetric.Distance(id, flipping(id, bit: 255)) < XORMetric.Distance(id, flipping(id, bit: 254)))
        #expect(!XORMetric.isCloser(id, than: id, to: rng.nodeID()))
    }

    @Test func closestMatchesBruteForceOnThousandsOfContacts() {
        var rng = RoutingTestRandom(seed: 100)
        var config = RoutingTable.Config()
        config.k = 5_000
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        var ids: [NodeID] = []
        for n in 0..<3_000 {
            let key = rng.key()
            ids.append(key.nodeID)
            _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: UInt64(n))
        }
        #expect(table.count == 3_000)
        for target in targets(for: table, contacts: ids, rng: &rng, random: 12) {
            let expected = bruteForce(ids, to: target)
            let all = table.closest(to: target, count: 4_000).map(\.id)
            #expect(all == expected)
            for count in [1, 20, 2_999] {
                #expect(table.closest(to: target, count: count).map(\.id) == Array(expected.prefix(count)))
            }
        }
        #expect(table.closest(to: ids[0], count: 0).isEmpty)
    }

    @Test func closestNeverStopsEarlyOnAFullDefaultTable() {
        var rng = RoutingTestRandom(seed: 101)
        var table = RoutingTable(ownID: rng.nodeID(), nowMs: 0)
        for n in 0..<3_000 { _ = table.recordAnswer(from: rng.key(), at: distinctAddress(n), nowMs: UInt64(n)) }
        let ids = table.allContacts.map(\.id)
        #expect(table.count == ids.count)
        #expect(table.count > 100)
        #expect(table.contacts(inBucket: 0).count == 20)
        for target in targets(for: table, contacts: ids, rng: &rng, random: 100) {
            let expected = bruteForce(ids, to: target)
            let found = table.closest(to: target, count: 20).map(\.id)
            #expect(found.count == 20)
            #expect(found == Array(expected.prefix(20)))
            #expect(table.closest(to: target, count: table.count + 5).map(\.id) == expected)
        }
    }

    @Test func closestOnASmallTableReturnsEveryone() {
        var rng = RoutingTestRandom(seed: 102)
        var table = RoutingTable(ownID: rng.nodeID(), nowMs: 0)
        #expect(table.closest(to: rng.nodeID(), count: 20).isEmpty)
        var ids: [NodeID] = []
        for n in 0..<7 {
            let key = rng.key()
            ids.append(key.nodeID)
            _ = table.recordAnswer(from: key, at: distinctAddress(n), nowMs: 0)
        }
        for target in targets(for: table, contacts: ids, rng: &rng, random: 20) {
            #expect(table.closest(to: target, count: 20).map(\.id) == bruteForce(ids, to: target))
        }
    }

    // MARK: Invariants under random inputs

    struct Run {
        var effects: [[RoutingTable.Effect]] = []
        var contacts: [Contact] = []
        /// `.added` for a contact that answered before this step: a promotion from a cache.
        var promotions = 0
    }

    /// Random answers, requests, failures and removals from a pool of keys crowded into a few
    /// network prefixes, checking every invariant after each step.
    func randomRun(seed: UInt64, steps: Int, checking: Bool) -> Run {
        var rng = RoutingTestRandom(seed: seed)
        var config = RoutingTable.Config.small(k: 4, cache: 3)
        config.livenessCheckAfterMs = 30
        config.livenessCheckTimeoutMs = 20
        config.maxPerPrefixPerTable = 6
        var table = RoutingTable(ownID: rng.nodeID(), config: config, nowMs: 0)
        let keys = (0..<300).map { _ in rng.key() }
        var answered = Set<NodeID>()
        var run = Run()
        for step in 0..<steps {
            let now = UInt64(step)
            let key = keys[Int.random(in: 0..<keys.count, using: &rng)]
            let address = PeerAddress.ipv4(10, 0, UInt8.random(in: 0..<12, using: &rng), 1, port: 7000)
            let before = Set(table.allContacts.map(\.id))
            let roll = Int.random(in: 0..<100, using: &rng)
            var effects: [RoutingTable.Effect] = []
            switch roll {
            case 0..<65:
                answered.insert(key.nodeID)
                effects = table.recordAnswer(from: key, at: address, nowMs: now)
            case 65..<75:
                table.recordRequest(from: key, at: address, nowMs: now)
            case 75..<95:
                let target = Bool.random(using: &rng) ? table.allContacts.randomElement(using: &rng)?.id ?? key.nodeID : key.nodeID
                effects = table.recordFailure(of: target, nowMs: now)
            default:
                effects = table.remove(key.nodeID)
            }
            run.effects.append(effects)
            guard checking else { continue }
            let after = Set(table.allContacts.map(\.id))
            for effect in effects {
                switch effect {
                case let .added(contact):
                    #expect(!before.contains(contact.id) && after.contains(contact.id))
                    if contact.lastSeenMs < now { run.promotions += 1 }
                case let .evicted(contact): #expect(before.contains(contact.id) && !after.contains(contact.id))
                case let .ping(contact):
                    let index = table.bucketIndex(of: contact.id)!
                    #expect(table.contacts(inBucket: index).first == contact)
                case .refused: break
                }
            }
            // Only .added brings ids in; only .evicted takes them out.
            let addedIDs = Set(effects.compactMap { if case let .added(c) = $0 { c.id } else { nil } })
            let evictedIDs = Set(effects.compactMap { if case let .evicted(c) = $0 { c.id } else { nil } })
            #expect(after.subtracting(before) == addedIDs.subtracting(before))
            #expect(before.subtracting(after) == evictedIDs.subtracting(after))
            checkInvariants(table, answered: answered)
        }
        run.contacts = table.allContacts
        return run
    }

    func checkInvariants(_ table: RoutingTable, answered: Set<NodeID>) {
        let config = table.config
        var seen = Set<NodeID>()
        var perTable: [[UInt8]: Int] = [:]
        for index in 0..<RoutingTable.bucketCount {
            let entries = table.contacts(inBucket: index)
            let cache = table.replacements(inBucket: index)
            #expect(entries.count <= config.k)
            #expect(cache.count <= config.replacementCacheSize)
            #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.lastSeenMs <= $1.lastSeenMs })
            var perBucket: [[UInt8]: Int] = [:]
            for contact in entries {
                perBucket[contact.address.limitPrefix, default: 0] += 1
                perTable[contact.address.limitPrefix, default: 0] += 1
            }
            #expect(perBucket.values.allSatisfy { $0 <= config.maxPerPrefixPerBucket })
            for contact in entries + cache {
                #expect(table.bucketIndex(of: contact.id) == index)
                #expect(seen.insert(contact.id).inserted, "an id appears twice")
                #expect(answered.contains(contact.id), "a contact that never answered")
                #expect(contact.id == contact.publicKey.nodeID)
            }
        }
        #expect(perTable.values.allSatisfy { $0 <= config.maxPerPrefixPerTable })
        #expect(table.count == table.allContacts.count)
    }

    @Test func invariantsHoldUnderRandomInputsAndRunsAreDeterministic() {
        let first = randomRun(seed: 7, steps: 3_000, checking: true)
        let second = randomRun(seed: 7, steps: 3_000, checking: false)
        #expect(first.effects == second.effects)
        #expect(first.contacts == second.contacts)
        // The run did exercise every path.
        let all = first.effects.flatMap { $0 }
        #expect(all.contains { if case .ping = $0 { true } else { false } })
        #expect(all.contains { if case .evicted = $0 { true } else { false } })
        #expect(all.contains { if case .refused(_, .bucketPrefixLimit) = $0 { true } else { false } })
        #expect(all.contains { if case .refused(_, .tablePrefixLimit) = $0 { true } else { false } })
        #expect(first.promotions > 0)
    }
}
