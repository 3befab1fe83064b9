import Testing
@testable import PRSMCore

/// The iterative Kademlia lookup as a pure state machine: who is asked, when it ends, timeouts,
/// hops, the candidate bound, and convergence on a synthetic network with a test-side oracle.
struct LookupTests {
    /// Lookup target for the hand-built cases: distances are then the ids themselves.
    static let zero = NodeID(digest: try! Digest32([UInt8](repeating: 0, count: 32)))

    /// A contact whose id starts with `first` (then `second`), the rest zero: its distance to
    /// `zero` is read off directly. The key is unrelated to the id (the internal initializer),
    /// which a Lookup never looks at.
    static func contact(_ first: UInt8, _ second: UInt8 = 0) -> Contact {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = first
        bytes[1] = second
        let id = NodeID(digest: try! Digest32(bytes))
        var keyBytes = bytes
        keyBytes[31] = 0xAA
        return Contact(id: id, publicKey: try! PublicKey(keyBytes), address: distinctAddress(Int(first) << 8 | Int(second)),
                       lastSeenMs: 0)
    }

    static func config(k: Int, alpha: Int, retries: Int = 1, timeoutMs: UInt64 = 100, maxCandidates: Int = 200)
        -> Lookup.Config {
        var config = Lookup.Config()
        config.k = k
        config.alpha = alpha
        config.maxRetries = retries
        config.requestTimeoutMs = timeoutMs
        config.maxCandidates = maxCandidates
        return config
    }

    func inFlightCount(_ lookup: Lookup) -> Int { lookup.candidates.filter(\.isInFlight).count }
    func isEmpty(_ expired: (retry: [Contact], failed: [Contact])) -> Bool { expired.retry.isEmpty && expired.failed.isEmpty }

    // MARK: Starting and asking

    @Test func startsFromTheSeedsNearestFirst() {
        let seeds = [0x50, 0x10, 0x70, 0x30, 0x20].map { Self.contact(UInt8($0)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 5, alpha: 3))
        #expect(lookup.candidates.map(\.contact.id) == [0x10, 0x20, 0x30, 0x50, 0x70].map { Self.contact(UInt8($0)).id })
        #expect(lookup.candidates.allSatisfy { $0.round == 1 && $0.state == .waiting })
        #expect(!lookup.isFinished)
        #expect(lookup.nextDeadlineMs == nil)

        let first = lookup.nextRequests(nowMs: 7)
        #expect(first.map(\.id) == [0x10, 0x20, 0x30].map { Self.contact(UInt8($0)).id })
        #expect(lookup.state(of: Self.contact(0x10).id) == .inFlight(sentMs: 7, attempt: 0))
        #expect(lookup.state(of: Self.contact(0x50).id) == .waiting)
        #expect(lookup.requestsSent == 3)
        #expect(lookup.nextDeadlineMs == 107)
        // Duplicate seeds are one candidate.
        let twice = Lookup(target: Self.zero, seeds: seeds + seeds, config: Self.config(k: 5, alpha: 3))
        #expect(twice.candidates.count == 5)
    }

    @Test func neverMoreThanAlphaInFlight() {
        let seeds = (1...8).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 8, alpha: 2))
        #expect(lookup.nextRequests(nowMs: 0).map(\.id) == [seeds[0].id, seeds[1].id])
        #expect(lookup.nextRequests(nowMs: 1).isEmpty)
        #expect(inFlightCount(lookup) == 2)

        lookup.recordAnswer(from: seeds[1].id, contacts: [])
        #expect(lookup.nextRequests(nowMs: 2).map(\.id) == [seeds[2].id])
        #expect(inFlightCount(lookup) == 2)
        lookup.recordAnswer(from: seeds[0].id, contacts: [])
        lookup.recordAnswer(from: seeds[2].id, contacts: [])
        #expect(lookup.nextRequests(nowMs: 3).map(\.id) == [seeds[3].id, seeds[4].id])
        #expect(inFlightCount(lookup) == 2)
    }

    @Test func onlyTheKClosestNotFailedAreAsked() {
        let seeds = (1...6).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 3, alpha: 10))
        #expect(lookup.nextRequests(nowMs: 0).map(\.id) == seeds.prefix(3).map(\.id))
        #expect(lookup.nextRequests(nowMs: 0).isEmpty)

        // A failure lets the next-closest in, and only it.
        lookup.recordFailure(of: seeds[1].id)
        #expect(lookup.state(of: seeds[1].id) == .failed)
        #expect(lookup.nextRequests(nowMs: 1).map(\.id) == [seeds[3].id])
        // Answers do not widen the window: the 3 closest not-failed are already asked.
        lookup.recordAnswer(from: seeds[0].id, contacts: [])
        lookup.recordAnswer(from: seeds[2].id, contacts: [])
        #expect(lookup.nextRequests(nowMs: 2).isEmpty)
        #expect(!lookup.isFinished)
        lookup.recordAnswer(from: seeds[3].id, contacts: [])
        #expect(lookup.isFinished)
        #expect(lookup.nextRequests(nowMs: 3).isEmpty)
        #expect(lookup.state(of: seeds[4].id) == .waiting)
        #expect(lookup.state(of: seeds[5].id) == .waiting)
        #expect(lookup.requestsSent == 4)
    }

    // MARK: Finishing

    @Test func doesNotFinishBeforeACloserContactLearnedLateHasAnswered() {
        let far = Self.contact(0x40)
        let farther = Self.contact(0x50)
        let close = Self.contact(0x10)
        var lookup = Lookup(target: Self.zero, seeds: [far, farther], config: Self.config(k: 2, alpha: 2))
        #expect(lookup.nextRequests(nowMs: 0).count == 2)
        lookup.recordAnswer(from: far.id, contacts: [])
        #expect(!lookup.isFinished)
        lookup.recordAnswer(from: farther.id, contacts: [close])
        // Two contacts answered (k = 2), yet a closer one is still unasked.
        #expect(!lookup.isFinished)
        #expect(lookup.nextRequests(nowMs: 1).map(\.id) == [close.id])
        #expect(!lookup.isFinished)
        lookup.recordAnswer(from: close.id, contacts: [])
        #expect(lookup.isFinished)
        #expect(lookup.closestAnswered.map(\.id) == [close.id, far.id])
    }

    @Test func finishesWhenNobodyIsLeftToAsk() {
        let a = Self.contact(0x10)
        let b = Self.contact(0x20)
        var fewer = Lookup(target: Self.zero, seeds: [a, b], config: Self.config(k: 5, alpha: 1))
        #expect(fewer.nextRequests(nowMs: 0).map(\.id) == [a.id])
        fewer.recordAnswer(from: a.id, contacts: [])
        #expect(!fewer.isFinished)
        #expect(fewer.nextRequests(nowMs: 0).map(\.id) == [b.id])
        fewer.recordAnswer(from: b.id, contacts: [a])
        #expect(fewer.isFinished)
        #expect(fewer.closestAnswered.map(\.id) == [a.id, b.id])

        var allFailed = Lookup(target: Self.zero, seeds: [a, b], config: Self.config(k: 5, alpha: 2))
        _ = allFailed.nextRequests(nowMs: 0)
        allFailed.recordFailure(of: a.id)
        #expect(!allFailed.isFinished)
        allFailed.recordFailure(of: b.id)
        #expect(allFailed.isFinished)
        #expect(allFailed.closestAnswered.isEmpty)
        #expect(allFailed.nextRequests(nowMs: 1).isEmpty)

        var empty = Lookup(target: Self.zero, seeds: [], config: Self.config(k: 5, alpha: 2))
        #expect(empty.isFinished)
        #expect(empty.nextRequests(nowMs: 0).isEmpty)
        #expect(empty.requestsSent == 0)
    }

    @Test func aValueEndsTheLookup() {
        let seeds = (1...4).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 4, alpha: 2))
        _ = lookup.nextRequests(nowMs: 0)
        // Only a contact we asked can end it.
        lookup.recordValue(from: seeds[3].id)
        #expect(!lookup.isFinished)
        #expect(lookup.state(of: seeds[3].id) == .waiting)
        lookup.recordValue(from: seeds[1].id)
        #expect(lookup.isFinished)
        #expect(lookup.nextRequests(nowMs: 1).isEmpty)
        #expect(lookup.state(of: seeds[1].id) == .answered)
        #expect(lookup.closestAnswered.map(\.id) == [seeds[1].id])
    }

    // MARK: Timeouts

    @Test func timeoutsAreRetriedMaxRetriesTimesThenFail() {
        let a = Self.contact(0x10)
        var lookup = Lookup(target: Self.zero, seeds: [a], config: Self.config(k: 3, alpha: 1, retries: 2, timeoutMs: 100))
        _ = lookup.nextRequests(nowMs: 0)
        #expect(isEmpty(lookup.expire(nowMs: 99)))
        var (retry, failed) = lookup.expire(nowMs: 100)
        #expect(retry.map(\.id) == [a.id] && failed.isEmpty)
        #expect(lookup.state(of: a.id) == .inFlight(sentMs: 100, attempt: 1))
        #expect(lookup.nextDeadlineMs == 200)
        #expect(lookup.nextRequests(nowMs: 100).isEmpty)
        (retry, failed) = lookup.expire(nowMs: 250)
        #expect(retry.map(\.id) == [a.id] && failed.isEmpty)
        #expect(lookup.state(of: a.id) == .inFlight(sentMs: 250, attempt: 2))
        #expect(isEmpty(lookup.expire(nowMs: 349)))
        (retry, failed) = lookup.expire(nowMs: 350)
        #expect(retry.isEmpty && failed.map(\.id) == [a.id])
        #expect(lookup.state(of: a.id) == .failed)
        #expect(lookup.requestsSent == 3)
        #expect(lookup.nextDeadlineMs == nil)
        #expect(lookup.isFinished)
        // A late answer from a failed contact changes nothing.
        lookup.recordAnswer(from: a.id, contacts: [Self.contact(0x01)])
        #expect(lookup.state(of: a.id) == .failed)
        #expect(lookup.candidates.count == 1)
    }

    @Test func aFailedCandidateLetsTheNextClosestIn() {
        let seeds = (1...3).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 2, alpha: 2, retries: 0, timeoutMs: 50))
        #expect(lookup.nextRequests(nowMs: 0).map(\.id) == [seeds[0].id, seeds[1].id])
        lookup.recordAnswer(from: seeds[1].id, contacts: [])
        let (retry, failed) = lookup.expire(nowMs: 50)
        #expect(retry.isEmpty && failed.map(\.id) == [seeds[0].id])
        #expect(!lookup.isFinished)
        #expect(lookup.nextRequests(nowMs: 50).map(\.id) == [seeds[2].id])
        lookup.recordAnswer(from: seeds[2].id, contacts: [])
        #expect(lookup.isFinished)
        #expect(lookup.closestAnswered.map(\.id) == [seeds[1].id, seeds[2].id])
    }

    // MARK: Results

    @Test func closestAnsweredIsNearestFirstAndAtMostK() {
        let seeds = (1...5).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 3, alpha: 3))
        _ = lookup.nextRequests(nowMs: 0)
        lookup.recordAnswer(from: seeds[2].id, contacts: [])
        lookup.recordAnswer(from: seeds[0].id, contacts: [])
        // In flight and waiting contacts are not results.
        #expect(lookup.closestAnswered.map(\.id) == [seeds[0].id, seeds[2].id])
        lookup.recordFailure(of: seeds[1].id)
        _ = lookup.nextRequests(nowMs: 1)
        lookup.recordAnswer(from: seeds[3].id, contacts: [])
        #expect(lookup.isFinished)
        #expect(lookup.closestAnswered.map(\.id) == [seeds[0].id, seeds[2].id, seeds[3].id])
    }

    @Test func hopsCountTheRoundsThatBroughtACloserContact() {
        let s1 = Self.contact(0x80)
        let s2 = Self.contact(0x90)
        let a = Self.contact(0x40)
        let b = Self.contact(0x20)
        let c = Self.contact(0x70)
        let d = Self.contact(0x08)
        var lookup = Lookup(target: Self.zero, seeds: [s1, s2], config: Self.config(k: 2, alpha: 2))
        _ = lookup.nextRequests(nowMs: 0)
        #expect(lookup.hops == 0)
        lookup.recordAnswer(from: s1.id, contacts: [a])
        #expect(lookup.hops == 1)
        // A second improving answer of round 1 is the same hop; a contact already known keeps its round.
        lookup.recordAnswer(from: s2.id, contacts: [b, a, s1])
        #expect(lookup.hops == 1)
        #expect(lookup.candidates.first { $0.contact.id == a.id }?.round == 2)
        #expect(lookup.candidates.first { $0.contact.id == s1.id }?.round == 1)
        #expect(lookup.nextRequests(nowMs: 1).map(\.id) == [b.id, a.id])
        // Round 2: b's answer brings nothing closer, a's does.
        lookup.recordAnswer(from: b.id, contacts: [c])
        #expect(lookup.hops == 1)
        lookup.recordAnswer(from: a.id, contacts: [d])
        #expect(lookup.hops == 2)
        #expect(lookup.candidates.first { $0.contact.id == d.id }?.round == 3)
        #expect(lookup.candidates.first { $0.contact.id == c.id }?.round == 3)
        #expect(lookup.nextRequests(nowMs: 2).map(\.id) == [d.id])
        lookup.recordAnswer(from: d.id, contacts: [])
        #expect(lookup.hops == 2)
        #expect(lookup.isFinished)
        #expect(lookup.closestAnswered.map(\.id) == [d.id, b.id])
    }

    @Test func maxCandidatesForgetsTheFarthestUnaskedAndKeepsTheClosest() {
        let seed = Self.contact(0x80)
        var lookup = Lookup(target: Self.zero, seeds: [seed],
                            config: Self.config(k: 2, alpha: 1, maxCandidates: 3))
        _ = lookup.nextRequests(nowMs: 0)
        let learned = [0x70, 0x60, 0x50, 0x10, 0x78].map { Self.contact(UInt8($0)) }
        lookup.recordAnswer(from: seed.id, contacts: learned)
        #expect(lookup.candidates.count == 3)
        // The asked seed stays; of the unasked ones the two closest are kept, and 0x78 (farther
        // than every unasked one kept) is not taken in.
        #expect(lookup.candidates.map(\.contact.id) == [0x10, 0x50, 0x80].map { Self.contact(UInt8($0)).id })
        for gone in [0x70, 0x60, 0x78] { #expect(lookup.state(of: Self.contact(UInt8(gone)).id) == nil) }
        #expect(lookup.nextRequests(nowMs: 1).map(\.id) == [Self.contact(0x10).id])

        // A closer contact still gets in while an unasked one can make room.
        lookup.recordAnswer(from: Self.contact(0x10).id, contacts: [Self.contact(0x05)])
        #expect(lookup.candidates.map(\.contact.id) == [0x05, 0x10, 0x80].map { Self.contact(UInt8($0)).id })
        #expect(lookup.candidates.count <= 3)
    }

    @Test func answersFromUnknownOrNotAskedContactsAreIgnored() {
        let seeds = (1...3).map { Self.contact(UInt8($0 * 0x10)) }
        var lookup = Lookup(target: Self.zero, seeds: seeds, config: Self.config(k: 3, alpha: 1))
        _ = lookup.nextRequests(nowMs: 0)
        let before = lookup.candidates

        lookup.recordAnswer(from: Self.contact(0x01).id, contacts: [Self.contact(0x02)])
        #expect(lookup.candidates == before)
        // Waiting, not asked: its answer is not taken, nor the contacts it brings.
        lookup.recordAnswer(from: seeds[2].id, contacts: [Self.contact(0x03)])
        #expect(lookup.candidates == before)
        lookup.recordValue(from: Self.contact(0x01).id)
        #expect(!lookup.isFinished)

        lookup.recordAnswer(from: seeds[0].id, contacts: [])
        let answered = lookup.candidates
        // Answering twice is ignored too, and an answered contact cannot be failed afterwards.
        lookup.recordAnswer(from: seeds[0].id, contacts: [Self.contact(0x04)])
        lookup.recordFailure(of: seeds[0].id)
        #expect(lookup.candidates == answered)
        #expect(lookup.hops == 0)
        // Unknown failures are ignored.
        lookup.recordFailure(of: Self.contact(0x05).id)
        #expect(lookup.candidates == answered)
    }

    // MARK: A synthetic network

    /// `size` random ids; each member knows, per bucket of its own, the `perBucket` members of that
    /// bucket closest to it (a full Kademlia table). The oracle answers FIND_NODE with the `k` ids
    /// closest to the target that the asked member knows; `dead` members never answer.
    struct SyntheticNetwork {
        let members: [Contact]
        let knows: [NodeID: [Contact]]
        /// Contacts per answer; the lookup's k when nil.
        let replySize: Int?

        init(size: Int, perBucket: Int, seed: UInt64, replySize: Int? = nil) {
            self.replySize = replySize
            var rng = RoutingTestRandom(seed: seed)
            members = (0..<size).map { n in
                let key = rng.key()
                return Contact(publicKey: key, address: distinctAddress(n), lastSeenMs: 0)
            }
            var knows: [NodeID: [Contact]] = [:]
            for member in members {
                var buckets: [Int: [Contact]] = [:]
                for other in members where other.id != member.id {
                    buckets[member.id.commonPrefixLength(with: other.id), default: []].append(other)
                }
                knows[member.id] = buckets.values.flatMap {
                    XORMetric.sorted($0, by: \.id, to: member.id).prefix(perBucket)
                }
            }
            self.knows = knows
        }

        func answer(_ asked: NodeID, target: NodeID, k: Int) -> [Contact] {
            Array(XORMetric.sorted(knows[asked] ?? [], by: \.id, to: target).prefix(replySize ?? k))
        }

        func trueClosest(to target: NodeID, count: Int, excluding dead: Set<NodeID> = []) -> [NodeID] {
            Array(XORMetric.sorted(members.filter { !dead.contains($0.id) }, by: \.id, to: target).prefix(count).map(\.id))
        }
    }

    /// Runs `lookup` against the network, answering in flight requests oldest first and letting
    /// time pass only when nothing can be answered. Checks the α and k-window rules at every step.
    func drive(_ lookup: inout Lookup, in network: SyntheticNetwork, dead: Set<NodeID> = []) {
        var nowMs: UInt64 = 0
        var queue: [NodeID] = []
        for _ in 0..<10_000 {
            let asked = lookup.nextRequests(nowMs: nowMs)
            for contact in asked {
                let nearer = lookup.candidates.prefix { $0.contact.id != contact.id }.filter { $0.state != .failed }
                #expect(nearer.count < lookup.config.k, "asked a contact outside the k closest not-failed")
            }
            #expect(inFlightCount(lookup) <= lookup.config.alpha)
            queue += asked.map(\.id).filter { !dead.contains($0) }
            if lookup.isFinished { return }
            if !queue.isEmpty {
                let id = queue.removeFirst()
                lookup.recordAnswer(from: id, contacts: network.answer(id, target: lookup.target, k: lookup.config.k))
                nowMs += 1
            } else {
                guard let deadline = lookup.nextDeadlineMs else { break }
                nowMs = max(nowMs, deadline)
                let (retry, _) = lookup.expire(nowMs: nowMs)
                #expect(retry.allSatisfy { dead.contains($0.id) })
            }
        }
        Issue.record("the lookup did not finish")
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func convergesToTheTrueKClosest(seed: UInt64) {
        let network = SyntheticNetwork(size: 200, perBucket: 8, seed: seed)
        var rng = RoutingTestRandom(seed: seed &* 31)
        for round in 0..<12 {
            // Half the targets are random ids, half are members (found as their own closest).
            let target = round.isMultiple(of: 2) ? rng.nodeID() : network.members[Int(rng.next() % 200)].id
            let start = network.members[Int(rng.next() % 200)]
            let seeds = network.answer(start.id, target: target, k: 8)
            var lookup = Lookup(target: target, seeds: seeds, config: Self.config(k: 8, alpha: 3))
            drive(&lookup, in: network)
            #expect(lookup.isFinished)
            #expect(lookup.closestAnswered.map(\.id) == network.trueClosest(to: target, count: 8))
            #expect(lookup.requestsSent < 60, "a lookup in 200 nodes should not ask \(lookup.requestsSent)")
        }
    }

    /// A fifth of the network is dead but still in everyone's tables. Replies carry 16 contacts
    /// (as a k = 20 table would) for a k = 8 lookup, so live ones are never missing from them.
    @Test func convergesAroundDeadNodes() {
        let network = SyntheticNetwork(size: 200, perBucket: 16, seed: 21, replySize: 16)
        var rng = RoutingTestRandom(seed: 22)
        let dead = Set(network.members.filter { _ in rng.next() % 5 == 0 }.map(\.id))
        #expect(dead.count > 20)
        for _ in 0..<8 {
            let target = rng.nodeID()
            let live = network.members.filter { !dead.contains($0.id) }
            let seeds = Array(network.answer(live[Int(rng.next() % UInt64(live.count))].id, target: target, k: 8).prefix(8))
            var lookup = Lookup(target: target, seeds: seeds, config: Self.config(k: 8, alpha: 3, retries: 1))
            drive(&lookup, in: network, dead: dead)
            #expect(lookup.isFinished)
            let result = lookup.closestAnswered
            #expect(result.map(\.id) == network.trueClosest(to: target, count: 8, excluding: dead))
            // Whatever the network: nobody closer than the k-th result was left unasked.
            if let last = result.last?.id.distance(to: target) {
                #expect(lookup.candidates.allSatisfy { $0.distance > last || $0.state == .answered || $0.state == .failed })
            }
            // Dead contacts never answer; each asked one cost 1 + maxRetries requests once failed.
            var expectedRequests = 0
            for candidate in lookup.candidates {
                switch candidate.state {
                case .answered: #expect(!dead.contains(candidate.contact.id)); expectedRequests += 1
                case .failed: #expect(dead.contains(candidate.contact.id)); expectedRequests += 2
                case let .inFlight(_, attempt): #expect(dead.contains(candidate.contact.id)); expectedRequests += attempt + 1
                case .waiting: break
                }
            }
            #expect(lookup.requestsSent == expectedRequests)
        }
    }
}
