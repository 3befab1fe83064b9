import PRSMWire

/// One iterative Kademlia lookup as a pure state machine (rust-libp2p `ClosestPeersIter`, BEP 5).
///
/// - It starts from the k closest contacts the caller knows (never fewer when the table holds
///   more: `RoutingTable.closest` is exact).
/// - At most α requests are in flight; only candidates among the k closest not-failed ones are
///   asked, nearest first.
/// - It ends when the k closest not-failed candidates have all answered, or when nobody is left
///   to ask; a value lookup also ends at the first valid value (the caller checks the hash).
/// - A request that times out is retried up to `maxRetries` times, then its contact has failed.
///
/// Hops: seeds are asked in round 1; a contact learned from a round-r answer is asked in round
/// r + 1. `hops` counts the rounds whose answers brought a contact closer than any known before.
public struct Lookup: Sendable {
    public struct Config: Sendable, Equatable {
        public var k = 20
        public var alpha = 3
        public var requestTimeoutMs: UInt64 = 2_000
        public var maxRetries = 1
        /// Candidates remembered; the farthest unasked ones are forgotten beyond this.
        public var maxCandidates = 200
        public init() {}
    }

    public enum State: Equatable, Sendable {
        case waiting
        case inFlight(sentMs: UInt64, attempt: Int)
        case answered
        case failed
    }

    public struct Candidate: Equatable, Sendable {
        public let contact: Contact
        public let distance: Digest32
        public let round: Int
        public fileprivate(set) var state: State
    }

    public let target: NodeID
    public let config: Config
    public private(set) var candidates: [Candidate] = []
    /// Requests sent, retries included.
    public private(set) var requestsSent = 0
    public private(set) var hops = 0
    private var improvingRounds: Set<Int> = []
    private var valueFound = false

    public init(target: NodeID, seeds: [Contact], config: Config = Config()) {
        precondition(config.k >= 1 && config.alpha >= 1 && config.maxCandidates >= config.k)
        self.target = target
        self.config = config
        for seed in seeds { insert(seed, round: 1) }
    }

    /// Contacts to ask now (each marked in flight); call after every input.
    public mutating func nextRequests(nowMs: UInt64) -> [Contact] {
        guard !isFinished else { return [] }
        var inFlight = candidates.reduce(0) { $0 + ($1.isInFlight ? 1 : 0) }
        var chosen: [Contact] = []
        var considered = 0
        for index in candidates.indices where candidates[index].state != .failed {
            considered += 1
            if considered > config.k || inFlight >= config.alpha { break }
            guard candidates[index].state == .waiting else { continue }
            candidates[index].state = .inFlight(sentMs: nowMs, attempt: 0)
            inFlight += 1
            requestsSent += 1
            chosen.append(candidates[index].contact)
        }
        return chosen
    }

    /// `id` answered with `contacts` (for a value lookup that found nothing, too).
    public mutating func recordAnswer(from id: NodeID, contacts: [Contact]) {
        guard let index = position(of: id), candidates[index].isInFlight else { return }
        candidates[index].state = .answered
        let round = candidates[index].round
        let bestBefore = candidates.first?.distance
        for contact in contacts { insert(contact, round: round + 1) }
        if let bestBefore, let best = candidates.first?.distance, best < bestBefore {
            noteImprovement(in: round)
        }
    }

    /// `id` answered with the value sought: the lookup is done.
    public mutating func recordValue(from id: NodeID) {
        guard let index = position(of: id), candidates[index].isInFlight else { return }
        candidates[index].state = .answered
        noteImprovement(in: candidates[index].round)
        valueFound = true
    }

    /// A request to `id` gave up (timeout after retries, or an unusable answer).
    public mutating func recordFailure(of id: NodeID) {
        guard let index = position(of: id), candidates[index].state != .answered else { return }
        candidates[index].state = .failed
    }

    /// Gives up on every candidate `matches` picks, whatever its state (a peer banned meanwhile):
    /// it is not asked, not waited for, not among the closest. Returns the ids of those that were
    /// in flight (their requests are abandoned).
    public mutating func exclude(where matches: (Contact) -> Bool) -> [NodeID] {
        var abandoned: [NodeID] = []
        for index in candidates.indices where candidates[index].state != .failed && matches(candidates[index].contact) {
            if candidates[index].isInFlight { abandoned.append(candidates[index].contact.id) }
            candidates[index].state = .failed
        }
        return abandoned
    }

    /// Requests older than the timeout: retried (returned, to be resent) or failed.
    public mutating func expire(nowMs: UInt64) -> (retry: [Contact], failed: [Contact]) {
        var retry: [Contact] = []
        var failed: [Contact] = []
        for index in candidates.indices {
            guard case let .inFlight(sentMs, attempt) = candidates[index].state,
                  nowMs >= sentMs + config.requestTimeoutMs else { continue }
            if attempt < config.maxRetries {
                candidates[index].state = .inFlight(sentMs: nowMs, attempt: attempt + 1)
                requestsSent += 1
                retry.append(candidates[index].contact)
            } else {
                candidates[index].state = .failed
                failed.append(candidates[index].contact)
            }
        }
        return (retry, failed)
    }

    public var isFinished: Bool {
        if valueFound { return true }
        var considered = 0
        for candidate in candidates where candidate.state != .failed {
            considered += 1
            if considered > config.k { break }
            if candidate.state != .answered { return false }
        }
        return true
    }

    /// The k closest contacts that answered, nearest first.
    public var closestAnswered: [Contact] {
        Array(candidates.lazy.filter { $0.state == .answered }.prefix(config.k).map(\.contact))
    }

    /// Earliest instant a request in flight times out (for the shell's timer), nil when none.
    public var nextDeadlineMs: UInt64? {
        candidates.lazy.compactMap {
            if case let .inFlight(sentMs, _) = $0.state { return sentMs + config.requestTimeoutMs }
            return nil
        }.min()
    }

    public func state(of id: NodeID) -> State? { position(of: id).map { candidates[$0].state } }

    // MARK: Private

    private mutating func noteImprovement(in round: Int) {
        if improvingRounds.insert(round).inserted { hops = improvingRounds.count }
    }

    private func position(of id: NodeID) -> Int? { candidates.firstIndex { $0.contact.id == id } }

    /// Inserts in distance order; a known contact keeps its state and round.
    private mutating func insert(_ contact: Contact, round: Int) {
        let distance = contact.id.distance(to: target)
        var low = 0
        var high = candidates.count
        while low < high {
            let mid = (low + high) / 2
            if candidates[mid].distance < distance { low = mid + 1 } else { high = mid }
        }
        if low < candidates.count, candidates[low].distance == distance { return }
        if candidates.count >= config.maxCandidates {
            // Forget the farthest candidate nobody is waiting on; when none can go, skip this one.
            guard let victim = candidates.lastIndex(where: { $0.state == .waiting || $0.state == .failed }),
                  victim >= low else { return }
            candidates.remove(at: victim)
        }
        candidates.insert(Candidate(contact: contact, distance: distance, round: round, state: .waiting), at: low)
    }
}

extension Lookup.Candidate {
    var isInFlight: Bool {
        if case .inFlight = state { return true }
        return false
    }
}
