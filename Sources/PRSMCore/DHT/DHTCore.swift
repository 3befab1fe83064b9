import PRSMWire

/// The Kademlia node as a pure core: routing table, records, iterative lookups, joins,
/// refreshes and re-replication. Inputs carry the current time; request ids, jitter and refresh
/// targets come from a generator seeded by the shell. Outputs are effects.
///
/// Requests are stateless signed datagrams: a responder keeps nothing per request. Replies obey
/// anti-amplification: without a valid address token for its source, a reply is at most 3× the
/// request's datagram (contacts are trimmed); a requester without a token pads its request.
public struct DHTCore: Sendable {
    public struct Config: Sendable, Equatable {
        public var routing = RoutingTable.Config()
        public var records = RecordStore.Config()
        public var lookup = Lookup.Config()
        /// Lookups (caller operations and maintenance) running at once.
        public var maxLookups = 64
        /// Requests awaiting an answer (lookups, STOREs, Pings).
        public var maxOutstanding = 1_024
        /// STOREs and Pings not answered within this are failures.
        public var requestTimeoutMs: UInt64 = 2_000
        /// First join retry delay; doubles per failed attempt up to `joinRetryMaxMs` (plus ≤25% jitter).
        public var joinRetryBaseMs: UInt64 = 1_000
        public var joinRetryMaxMs: UInt64 = 60_000
        /// Seeds pinged per join attempt.
        public var maxSeeds = 32
        /// Zero bytes a requester without an address token adds to FIND_NODE / FIND_VALUE so the
        /// 3× budget covers a full reply.
        public var unprovenPadding = 400
        /// Address tokens received from others, remembered per address.
        public var maxHeldTokens = 4_096
        /// Tokens older than this are not presented (they rotate every 5 minutes, valid for two).
        public var heldTokenLifetimeMs: UInt64 = 240_000
        /// Banned node ids and IP addresses remembered so lookups skip them (each kind; as many
        /// as the peer scores can hold banned, `PeerScores.Config.maxKeys`).
        public var maxBannedContacts = 4_096
        /// Requesters not yet in the table that we Ping (to add them when they answer) at once.
        public var maxRequesterChecks = 32
        /// The closest contacts a join's spread lookup waits for. After the join refreshes a far
        /// bucket, one spread lookup goes to each region of its range the bucket lacks (see
        /// `RoutingTable.Config.spreadBits`); a few answerers there are all it needs, so it ends
        /// after about two rounds instead of waiting for k.
        public var spreadLookupK = 3
        /// Only the farthest this many buckets get the join's spread lookups: they hold the
        /// contacts for 1 − 2^−n of all keys (7/8 for 3), while each spread lookup makes several
        /// more nodes remember the newcomer (peer table, replay window, scores), the largest
        /// share of a node's memory in a large network.
        public var spreadLookupBuckets = 3
        /// Bucket refresh and record re-replication lookups started per tick.
        public var maintenanceLookupsPerTick = 2
        /// After a get finds a value, nodes of the lookup that should have held it and did not
        /// are sent a STORE, at most this many.
        public var maxRepairStores = 3
        public var tokenRotationMs: UInt64 = 300_000
        /// A second lookup of our own id this long after joining (0: none). Neighbours add a
        /// newcomer only once it answers their Ping; a Ping lost while the join's burst of
        /// traffic was in flight leaves it out of the tables where lookups for it end, and the
        /// second lookup makes those neighbours Ping it again.
        public var confirmJoinAfterMs: UInt64 = 10_000
        /// A deliberately broken variant, so the simulator can show its DHT checkers fail.
        /// Never set in a real node.
        public var brokenVariant: BrokenVariant?
        public init() {}
    }

    /// Mistakes measured in a popular Python Kademlia, reproduced on purpose for checker tests.
    public enum BrokenVariant: Sendable, Equatable {
        /// Contacts named in a Nodes reply enter the table without ever answering us.
        case trustHearsay
        /// Every reply triggers a STORE of every record we hold to the replier (a store storm).
        case storeOnEveryReply
    }

    public enum Effect: Equatable, Sendable {
        case send(Message, to: PeerAddress)
        case finished(DHTResult)
        case joined(contacts: Int)
        case joinFailed(attempt: Int, retryInMs: UInt64, reason: String)
        case contactAdded(Contact)
        case contactEvicted(Contact)
        case refused(NodeID, RoutingTable.Refusal)
        /// A signed message we could not use (counted by the shell).
        case ignored(DropReason)
        /// A peer answered with something provably wrong (a value that does not hash to its key).
        case misbehaved(PublicKey, String)
        /// A peer answered one of our requests (its score may rise).
        case peerAnswered(PublicKey)
        /// A peer left a lookup request (after its retries), a STORE or a liveness Ping
        /// unanswered (its score falls, never to a ban: see `PeerScores`).
        case peerTimedOut(PublicKey)
    }

    enum Waiting: Equatable, Sendable {
        case lookup(UInt64, NodeID)
        case store(UInt64, NodeID)
        case seedPing
        case livenessPing(NodeID)
        case requesterPing(NodeID)
        /// A FIND_NODE telling a contact we switched to client mode.
        case announce(NodeID)
    }

    /// A lookup the join runs to fill a bucket: the whole bucket (`region` nil), or one region of
    /// its range the full bucket lacks.
    struct JoinRefresh: Equatable, Sendable {
        let bucket: Int
        let region: Int?
    }

    struct Outstanding: Sendable {
        let waiting: Waiting
        let address: PeerAddress
        let sentMs: UInt64
    }

    struct RunningLookup: Sendable {
        var lookup: Lookup
        let purpose: DHTPurpose
        let startedMs: UInt64
        /// Put: STOREs sent / confirmed / still awaited once the closest nodes are known.
        var storesSent = 0
        var storesConfirmed = 0
        var storesPending = 0
        var finishedLookup = false
        var foundValue: [UInt8]?
        /// Get: the node that returned the value.
        var holder: NodeID?
        /// The caller already has its result (a get that found its value while repair STOREs
        /// still run): finishing reports nothing more.
        var reported = false
    }

    /// A token held for an address. Its `DHTLimits.tokenSize` (16) bytes are kept inline: as an
    /// array, each of the thousands held cost a heap allocation of 64 bytes.
    struct HeldToken: Sendable {
        private let high: UInt64
        private let low: UInt64
        let receivedMs: UInt64

        init(token: [UInt8], receivedMs: UInt64) {
            precondition(token.count == 16 && DHTLimits.tokenSize == 16, "a held token is 16 bytes")
            high = token[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = token[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
            self.receivedMs = receivedMs
        }

        var token: [UInt8] {
            withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)
        }
    }

    public let identity: PublicKey
    public let ownID: NodeID
    public let config: Config
    public internal(set) var table: RoutingTable
    public internal(set) var records: RecordStore
    public internal(set) var joinState: JoinState = .notStarted
    /// Whether our requests announce server mode (others may add us); false once reachability
    /// checks show we cannot be reached unsolicited.
    public internal(set) var serverMode = true
    public internal(set) var lastJoinError: String?
    var tokens: AddressTokens
    var random: SplitMix64
    var lookups: [UInt64: RunningLookup] = [:]
    var outstanding: [UInt64: Outstanding] = [:]
    var heldTokens: [PeerAddress: HeldToken] = [:]
    var lastTokenSweepMs: UInt64 = 0
    var seeds: [PeerAddress] = []
    var savedContacts: [WireContact] = []
    var failedJoinAttempts = 0
    /// When the confirming lookup of our own id is due (`Config.confirmJoinAfterMs`).
    var confirmJoinAtMs: UInt64?
    /// Refreshes the join still has to start, farthest bucket first (bounded by 256 buckets ×
    /// (1 + 2^spreadBits)).
    var pendingJoinRefreshes: [JoinRefresh] = []
    /// Buckets whose join refresh has not ended yet: when it does, their spread lookups are queued.
    var spreadAfterRefresh = Set<Int>()
    /// Requesters whose first Ping timed out and were pinged once more (cleared beyond
    /// 4 × `maxRequesterChecks`, so bounded).
    var retriedRequesters = Set<NodeID>()
    /// Ids and hosts the shell banned: not asked by lookups until the ban ends.
    var banned: BannedContacts

    public init(identity: PublicKey, config: Config = Config(), seed: UInt64, nowMs: UInt64) {
        self.identity = identity
        ownID = identity.nodeID
        self.config = config
        var random = SplitMix64(seed: seed)
        tokens = AddressTokens(secret: random.bytes(32), rotationMs: config.tokenRotationMs)
        self.random = random
        table = RoutingTable(ownID: ownID, config: config.routing, nowMs: nowMs)
        records = RecordStore(config: config.records)
        banned = BannedContacts(limit: config.maxBannedContacts)
    }

    public var outstandingCount: Int { outstanding.count }
    public var lookupCount: Int { lookups.count }
    public var heldTokenCount: Int { heldTokens.count }

    /// Whether a Pong with this nonce answers one of our Pings.
    public func awaitsPong(nonce: UInt64) -> Bool {
        switch outstanding[nonce]?.waiting {
        case .seedPing, .livenessPing, .requesterPing: return true
        default: return false
        }
    }

    /// Earliest time something times out, so the shell can wake then.
    public var nextDeadlineMs: UInt64? {
        var deadline = outstanding.values.lazy.map { $0.sentMs + config.requestTimeoutMs }.min()
        for running in lookups.values {
            if let next = running.lookup.nextDeadlineMs { deadline = min(deadline ?? next, next) }
        }
        if case let .waitingToRetry(_, at) = joinState { deadline = min(deadline ?? at, at) }
        if let at = confirmJoinAtMs { deadline = min(deadline ?? at, at) }
        return deadline
    }

    // MARK: Join

    /// Starts joining from bootstrap addresses and saved contacts (address book); either may be
    /// empty. Retries with back-off until some seed answers.
    public mutating func join(bootstrap: [PeerAddress], saved: [WireContact], nowMs: UInt64) -> [Effect] {
        seeds = Array(bootstrap.prefix(config.maxSeeds))
        savedContacts = Array(saved.filter { $0.publicKey != identity }.prefix(config.maxSeeds))
        failedJoinAttempts = 0
        return startJoinAttempt(nowMs: nowMs)
    }

    mutating func startJoinAttempt(nowMs: UInt64) -> [Effect] {
        let attempt = failedJoinAttempts + 1
        var targets = Set<PeerAddress>()
        var effects: [Effect] = []
        let saved = savedContacts.filter { !banned.excludes(id: $0.publicKey.nodeID, nowMs: nowMs) }.map(\.address)
        for address in seeds + saved + table.allContacts.map(\.address)
        where targets.count < config.maxSeeds && !banned.excludes(address: address, nowMs: nowMs)
            && targets.insert(address).inserted {
            effects += ping(address, waiting: .seedPing, nowMs: nowMs)
        }
        if targets.isEmpty {
            return joinAttemptFailed(reason: "no bootstrap peers and no saved contacts", nowMs: nowMs)
        }
        joinState = .contactingSeeds(attempt: attempt)
        return effects
    }

    mutating func joinAttemptFailed(reason: String, nowMs: UInt64) -> [Effect] {
        failedJoinAttempts += 1
        let shift = UInt64(min(failedJoinAttempts - 1, 30))
        let base = min(config.joinRetryMaxMs, config.joinRetryBaseMs << shift)
        let delay = base + random.next() % (base / 4 + 1)
        joinState = .waitingToRetry(attempt: failedJoinAttempts, retryAtMs: nowMs + delay)
        lastJoinError = reason
        return [.joinFailed(attempt: failedJoinAttempts, retryInMs: delay, reason: reason)]
    }

    /// A seed answered (or the table gained a contact): look up our own id from the table.
    mutating func seedAnswered(nowMs: UInt64) -> [Effect] {
        guard case let .contactingSeeds(attempt) = joinState else { return [] }
        joinState = .lookingUp(attempt: attempt)
        return startLookup(target: ownID, purpose: .join, nowMs: nowMs)
    }

    /// Reachability decided our mode. On switching to client mode every contact in our table is
    /// told (a FIND_NODE for our own id carrying the client flag), so they drop us from theirs.
    public mutating func setServerMode(_ on: Bool, nowMs: UInt64) -> [Effect] {
        guard on != serverMode else { return [] }
        serverMode = on
        guard !on else { return [] }
        var effects: [Effect] = []
        for contact in table.allContacts {
            let requestID = newRequestID()
            track(requestID, .announce(contact.id), address: contact.address, nowMs: nowMs)
            let (header, padding) = header(for: contact.address, id: requestID, nowMs: nowMs)
            effects.append(.send(.dht(.findNode(FindNode(header: header, target: ownID, padding: padding))),
                                 to: contact.address))
        }
        return effects
    }

    // MARK: Caller operations

    public mutating func findNode(_ target: NodeID, operation: UInt64, nowMs: UInt64) -> [Effect] {
        startOperation(target: target, purpose: .findNode(operation: operation), nowMs: nowMs)
    }

    public mutating func get(_ key: Digest32, operation: UInt64, nowMs: UInt64) -> [Effect] {
        if let value = records.value(for: key, nowMs: nowMs) {
            return [.finished(DHTResult(operation: operation, kind: .get, target: key, closest: [], value: value,
                                        storedAt: 0, hops: 0, requests: 0, startedMs: nowMs, finishedMs: nowMs,
                                        failure: nil))]
        }
        return startOperation(target: NodeID(digest: key), purpose: .get(operation: operation, key: key), nowMs: nowMs)
    }

    /// Stores `value` here and at the k nodes closest to its key; the key is BLAKE2b-256(value).
    public mutating func put(_ value: [UInt8], operation: UInt64, nowMs: UInt64) -> [Effect] {
        let key = Blake2b.hash256(value)
        guard value.count <= DHTLimits.maxValueSize else {
            return [.finished(failure(.tooLarge, operation: operation, kind: .put, target: key, nowMs: nowMs))]
        }
        _ = records.storeLocal(value, nowMs: nowMs)
        records.markReplicated(key, nowMs: nowMs)
        return startOperation(target: NodeID(digest: key), purpose: .put(operation: operation, value: value),
                              nowMs: nowMs)
    }

    mutating func startOperation(target: NodeID, purpose: DHTPurpose, nowMs: UInt64) -> [Effect] {
        guard lookups.count < config.maxLookups else {
            guard let (operation, kind) = purpose.operation else { return [] }
            return [.finished(failure(.busy, operation: operation, kind: kind, target: target.digest, nowMs: nowMs))]
        }
        return startLookup(target: target, purpose: purpose, nowMs: nowMs)
    }

    func failure(_ reason: DHTResult.Failure, operation: UInt64, kind: DHTResult.Kind, target: Digest32,
                 nowMs: UInt64) -> DHTResult {
        .failed(reason, operation: operation, kind: kind, target: target, nowMs: nowMs)
    }

    // MARK: Messages

    /// A DHT message, or a Pong answering one of our Pings, that passed the receive pipeline.
    public mutating func handle(_ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        switch inbound.message {
        case let .dht(message):
            switch message {
            case let .findNode(request): return answerFindNode(request, inbound, nowMs: nowMs)
            case let .findValue(request): return answerFindValue(request, inbound, nowMs: nowMs)
            case let .store(request): return answerStore(request, inbound, nowMs: nowMs)
            case let .nodes(reply): return receiveNodes(reply, inbound, nowMs: nowMs)
            case let .value(reply): return receiveValue(reply, inbound, nowMs: nowMs)
            case let .stored(reply): return receiveStored(reply, inbound, nowMs: nowMs)
            }
        case let .pong(pong):
            return receivePong(nonce: pong.nonce, inbound, nowMs: nowMs)
        default:
            return []
        }
    }

    // MARK: Time

    /// Timeouts, join retries, bucket refreshes, record expiry and re-replication.
    public mutating func tick(nowMs: UInt64) -> [Effect] {
        var effects = expireOutstanding(nowMs: nowMs)
        for id in lookups.keys.sorted() { effects += expireLookup(id, nowMs: nowMs) }
        switch joinState {
        case let .waitingToRetry(_, at) where nowMs >= at:
            effects += startJoinAttempt(nowMs: nowMs)
        case .joined where table.count == 0:
            effects += joinAttemptFailed(reason: "routing table emptied", nowMs: nowMs)
        case .joined:
            effects += maintain(nowMs: nowMs)
        default:
            break
        }
        _ = records.expire(nowMs: nowMs)
        forgetExpiredTokens(nowMs: nowMs)
        return effects
    }

    /// Drops held tokens too old to present, once per quarter of their lifetime: otherwise the
    /// table keeps one per address that ever answered us, until it is full.
    mutating func forgetExpiredTokens(nowMs: UInt64) {
        guard nowMs >= lastTokenSweepMs &+ config.heldTokenLifetimeMs / 4 else { return }
        lastTokenSweepMs = nowMs
        heldTokens = heldTokens.filter { nowMs < $0.value.receivedMs &+ config.heldTokenLifetimeMs }
    }

    mutating func maintain(nowMs: UInt64) -> [Effect] {
        var effects = startJoinRefreshes(nowMs: nowMs)
        var budget = config.maintenanceLookupsPerTick
        if let at = confirmJoinAtMs, nowMs >= at, lookups.count < config.maxLookups / 2 {
            confirmJoinAtMs = nil
            budget -= 1
            effects += startLookup(target: ownID, purpose: .refresh, nowMs: nowMs)
        }
        for bucket in table.bucketsNeedingRefresh(nowMs: nowMs) where budget > 0 && lookups.count < config.maxLookups / 2 {
            budget -= 1
            let target = table.refreshTarget(forBucket: bucket, randomBytes: random.bytes(32))
            effects += startLookup(target: target, purpose: .refresh, nowMs: nowMs)
        }
        for record in records.dueForReplication(nowMs: nowMs, limit: max(budget, 0))
        where lookups.count < config.maxLookups / 2 {
            records.markReplicated(record.key, nowMs: nowMs)
            effects += startLookup(target: NodeID(digest: record.key), purpose: .replicate(value: record.value),
                                   nowMs: nowMs)
        }
        return effects
    }

    // MARK: Sending

    mutating func newRequestID() -> UInt64 {
        var id = random.next()
        while outstanding[id] != nil { id = random.next() }
        return id
    }

    /// Records an outstanding request, first dropping the oldest when the table is full (it then
    /// counts as timed out at the next tick of its owner; the table stays bounded).
    mutating func track(_ id: UInt64, _ waiting: Waiting, address: PeerAddress, nowMs: UInt64) {
        if outstanding.count >= config.maxOutstanding,
           let oldest = outstanding.min(by: { ($0.value.sentMs, $0.key) < ($1.value.sentMs, $1.key) }) {
            outstanding[oldest.key] = nil
        }
        outstanding[id] = Outstanding(waiting: waiting, address: address, sentMs: nowMs)
    }

    mutating func ping(_ address: PeerAddress, waiting: Waiting, nowMs: UInt64) -> [Effect] {
        let nonce = newRequestID()
        track(nonce, waiting, address: address, nowMs: nowMs)
        return [.send(.ping(Ping(nonce: nonce)), to: address)]
    }

    mutating func header(for address: PeerAddress, id: UInt64, nowMs: UInt64) -> (DHTRequestHeader, padding: Int) {
        if let held = heldTokens[address], nowMs < held.receivedMs + config.heldTokenLifetimeMs {
            return (DHTRequestHeader(requestID: id, serverMode: serverMode, token: held.token), 0)
        }
        return (DHTRequestHeader(requestID: id, serverMode: serverMode), config.unprovenPadding)
    }

    mutating func holdToken(_ token: [UInt8], from address: PeerAddress, nowMs: UInt64) {
        guard token.count == DHTLimits.tokenSize else { return }
        if heldTokens[address] == nil, heldTokens.count >= config.maxHeldTokens,
           let oldest = heldTokens.min(by: { ($0.value.receivedMs, $0.key) < ($1.value.receivedMs, $1.key) }) {
            heldTokens[oldest.key] = nil
        }
        heldTokens[address] = HeldToken(token: token, receivedMs: nowMs)
    }

    /// Applies routing-table effects: liveness Pings go out, the rest is reported.
    mutating func routed(_ effects: [RoutingTable.Effect], nowMs: UInt64) -> [Effect] {
        var out: [Effect] = []
        for effect in effects {
            switch effect {
            case let .ping(contact): out += ping(contact.address, waiting: .livenessPing(contact.id), nowMs: nowMs)
            case let .added(contact): out.append(.contactAdded(contact))
            case let .evicted(contact): out.append(.contactEvicted(contact))
            case let .refused(id, reason): out.append(.refused(id, reason))
            }
        }
        return out
    }

    /// A contact proved itself by answering one of our requests.
    mutating func answered(_ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        routed(table.recordAnswer(from: inbound.sender, at: inbound.source, nowMs: nowMs), nowMs: nowMs)
            + [.peerAnswered(inbound.sender)]
    }

    /// The shell banned `key` until `untilMs` (or every key at an IP address, `host` being its
    /// `PeerAddress.reputationHost`): its contacts leave the table and the replacement caches, and
    /// lookups skip it when others name it, until the ban ends, so we stop asking a peer whose
    /// answers the pipeline now drops.
    public mutating func forget(key: PublicKey, untilMs: UInt64, nowMs: UInt64) -> [Effect] {
        banned.ban(key.nodeID, untilMs: untilMs, nowMs: nowMs)
        return routed(table.remove(key.nodeID), nowMs: nowMs) + dropFromLookups(nowMs: nowMs)
    }

    public mutating func forget(host: [UInt8], untilMs: UInt64, nowMs: UInt64) -> [Effect] {
        banned.ban(host: host, untilMs: untilMs, nowMs: nowMs)
        var effects: [Effect] = []
        // Caches first, so no contact of that host is promoted into a slot its neighbour freed.
        for contact in table.allReplacements + table.allContacts where contact.address.reputationHost == host {
            effects += routed(table.remove(contact.id), nowMs: nowMs)
        }
        return effects + dropFromLookups(nowMs: nowMs)
    }

    /// Running lookups give up on banned candidates, whatever their state: not asked, not waited
    /// for (their answers are dropped unread), not counted among the closest, not sent STOREs.
    private mutating func dropFromLookups(nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        for id in lookups.keys.sorted() {
            let dropped = lookups[id]!.lookup.exclude { banned.excludes($0, nowMs: nowMs) }
            guard !dropped.isEmpty else { continue }
            for node in dropped { abandonRequests(of: id, to: node) }
            effects += advance(id, nowMs: nowMs)
        }
        return effects
    }
}

extension DHTPurpose {
    /// The caller's operation id and kind, nil for maintenance lookups.
    var operation: (UInt64, DHTResult.Kind)? {
        switch self {
        case let .findNode(operation): return (operation, .findNode)
        case let .get(operation, _): return (operation, .get)
        case let .put(operation, _): return (operation, .put)
        case .join, .refresh, .replicate: return nil
        }
    }
}
