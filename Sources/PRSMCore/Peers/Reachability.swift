/// Can others reach this node unsolicited, and at which public address?
///
/// (a) Observed addresses: peers tell us where our messages came from (Pong, HelloReply). A
/// candidate becomes `confirmedAddress` once two different peers in two different network
/// prefixes (/24 or /48, `PeerAddress.limitPrefix`) report it, so one peer or one subnet cannot
/// plant an address. Each peer has one vote per address family; tallies are bounded.
///
/// (b) Dial-back, as libp2p AutoNAT, with three roles:
/// - A (`startCheck`) asks helpers B with `request(nonce)`;
/// - B (`handleRequest`) asks a third node C with `relay(nonce, target: where B saw A)`;
/// - B also tells A which C it asked (`relayed(nonce, via: C)`);
/// - C (`handleRelay`) sends `probe(nonce)` to the target, at most `maxProbesPerMinute`, so it
///   cannot be used as an amplifier;
/// - A (`handleProbe`): a probe carrying a pending nonce from a host A did not ask and has not
///   sent anything to recently (`noteSent`: a NAT mapping A opened would let it through) proves A
///   reachable. A check whose relay A contacted recently proves nothing and is dropped; a check
///   whose helper never named a relay proves nothing either. Only when checks through
///   `minFailedRelays` different fresh relays, asked by as many different helpers, have timed
///   out without their probes (since the last success), and none is pending, is A unreachable: a relay may have dropped its probe
///   under its own rate limit, and one busy relay (a bootstrap node everyone knows) must not
///   turn a reachable node into a client.
/// `serverMode` is optimistic: only a failed check turns it off, so bootstrap nodes serve at once.
/// Pure: time is an input; no iteration order decides anything.
public struct Reachability: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case unknown, reachable, unreachable
    }

    public struct Config: Sendable {
        public var maxCandidates = 16
        public var maxReportsPerCandidate = 8
        /// Reports older than this no longer count toward a confirmed address.
        public var observationTtlMs: UInt64 = 1_800_000
        public var checkTimeoutMs: UInt64 = 10_000
        public var maxPendingChecks = 16
        /// As C: probes sent per sliding minute, whoever asks.
        public var maxProbesPerMinute = 30
        /// As A: a helper we asked keeps our NAT open toward it for about this long, so its
        /// probes prove nothing for this long after we asked it.
        public var helperMemoryMs: UInt64 = 120_000
        public var maxRememberedHelpers = 64
        /// Hosts we sent to within this long may have an open NAT mapping toward us.
        public var natMappingMs: UInt64 = 120_000
        /// Hosts remembered as recently sent to; when full, probes prove nothing until it drains.
        public var maxRecentContacts = 8_192
        /// Distinct relays whose checks must fail before we call ourselves unreachable.
        public var minFailedRelays = 2
        public init() {}
    }

    public enum Effect: Equatable, Sendable {
        case send(DialBack, to: PeerAddress)
        case statusChanged(Status)
        case addressConfirmed(PeerAddress)
        case ignored(DropReason)
    }

    struct Report: Sendable {
        let key: PublicKey
        let prefix: [UInt8]
        let atMs: UInt64
    }

    struct PendingCheck: Sendable {
        let helper: PeerAddress
        let deadlineMs: UInt64
        /// The relay the helper named; a check without one proves nothing when it times out.
        var relay: PeerAddress?
        /// Its relay's probe arrived through a mapping we may have opened: a timeout proves nothing.
        var ambiguous = false
    }

    public let config: Config
    public private(set) var status: Status = .unknown
    public private(set) var confirmedAddress: PeerAddress?
    private var tallies: [PeerAddress: [Report]] = [:]
    private var pending: [UInt64: PendingCheck] = [:]
    /// Host bytes of helpers we asked -> when we last asked them.
    private var askedHelpers: [[UInt8]: UInt64] = [:]
    /// When this node (as C) sent its recent probes, oldest first.
    private var probeTimes: [UInt64] = []
    /// Host bytes we sent anything to -> when we last did.
    private var recentContacts: [[UInt8]: UInt64] = [:]
    /// Hosts of the helpers and fresh relays of the checks that timed out since the last success
    /// (at most `maxPendingChecks` each: past `minFailedRelays` of both we are unreachable and
    /// they start over). Distinct helpers too, so one lying helper that names relays which never
    /// probe cannot make us unreachable alone.
    private var failedRelays = Set<[UInt8]>()
    private var failedHelpers = Set<[UInt8]>()
    /// A host we sent to could not be remembered (table full): probes prove nothing until then.
    private var saturatedUntilMs: UInt64 = 0

    public init(config: Config = Config()) { self.config = config }

    /// False only after a check failed: a node that cannot be reached should not offer services
    /// (DHT server mode) that others would time out on.
    public var serverMode: Bool { status != .unreachable }
    public var pendingChecks: Int { pending.count }
    public var candidateCount: Int { tallies.count }
    /// Hosts we sent to within the NAT-mapping time (bounded by `maxRecentContacts`).
    public var recentContactCount: Int { recentContacts.count }
    /// Distinct peers currently vouching for `address`.
    public func reporters(of address: PeerAddress) -> Int { tallies[address]?.count ?? 0 }

    // MARK: observed addresses

    /// A peer at `reporterAddress`, signing as `reportedBy`, says our messages come from `address`.
    @discardableResult
    public mutating func observe(_ address: PeerAddress, reportedBy: PublicKey, reporterAddress: PeerAddress,
                                 nowMs: UInt64) -> [Effect] {
        let family = address.hostBytes.count
        // One vote per peer and address family: a changed report replaces the old one.
        for candidate in tallies.keys.sorted() where candidate != address && candidate.hostBytes.count == family {
            tallies[candidate]?.removeAll { $0.key == reportedBy }
            if tallies[candidate]?.isEmpty == true { tallies[candidate] = nil }
        }
        if tallies[address] == nil, tallies.count >= config.maxCandidates { evictWeakestCandidate() }
        var reports = tallies[address] ?? []
        reports.removeAll { $0.key == reportedBy }
        reports.append(Report(key: reportedBy, prefix: reporterAddress.limitPrefix, atMs: nowMs))
        while reports.count > max(2, config.maxReportsPerCandidate) {
            let oldest = reports.indices.min { (reports[$0].atMs, reports[$0].key) < (reports[$1].atMs, reports[$1].key) }!
            reports.remove(at: oldest)
        }
        tallies[address] = reports
        return recomputeConfirmed()
    }

    /// Two reports from different peers in different prefixes.
    static func confirms(_ reports: [Report]) -> Bool {
        for (i, a) in reports.enumerated() {
            for b in reports[(i + 1)...] where a.key != b.key && a.prefix != b.prefix { return true }
        }
        return false
    }

    private static func distinctPrefixes(_ reports: [Report]) -> Int { Set(reports.map(\.prefix)).count }

    private mutating func evictWeakestCandidate() {
        let weakest = tallies.min { a, b in
            let (pa, pb) = (Self.distinctPrefixes(a.value), Self.distinctPrefixes(b.value))
            if pa != pb { return pa < pb }
            let (la, lb) = (a.value.map(\.atMs).max() ?? 0, b.value.map(\.atMs).max() ?? 0)
            if la != lb { return la < lb }
            return a.key < b.key
        }
        if let weakest { tallies[weakest.key] = nil }
    }

    /// The confirmed candidate with the most distinct prefixes (then the most recent report,
    /// then the smallest address).
    private mutating func recomputeConfirmed() -> [Effect] {
        let best = tallies.filter { Self.confirms($0.value) }.max { a, b in
            let (pa, pb) = (Self.distinctPrefixes(a.value), Self.distinctPrefixes(b.value))
            if pa != pb { return pa < pb }
            let (la, lb) = (a.value.map(\.atMs).max() ?? 0, b.value.map(\.atMs).max() ?? 0)
            if la != lb { return la < lb }
            return a.key > b.key
        }?.key
        guard best != confirmedAddress else { return [] }
        confirmedAddress = best
        return best.map { [.addressConfirmed($0)] } ?? []
    }

    // MARK: dial-back

    /// As A: asks each helper (paired with a fresh nonce) to have a third node probe us.
    /// Pairs beyond `maxPendingChecks`, and reused nonces, are skipped.
    public mutating func startCheck(via helpers: [PeerAddress], nonces: [UInt64], nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        for (helper, nonce) in zip(helpers, nonces) where pending[nonce] == nil {
            guard pending.count < config.maxPendingChecks else { break }
            pending[nonce] = PendingCheck(helper: helper, deadlineMs: nowMs &+ config.checkTimeoutMs)
            rememberHelper(helper.hostBytes, nowMs: nowMs)
            effects.append(.send(.request(nonce: nonce), to: helper))
        }
        return effects
    }

    /// As B: asks the first candidate that is not on the requester's host to probe the requester
    /// where we saw it, and tells the requester which node it asked. The caller orders the
    /// candidates (randomly, or sorted).
    public func handleRequest(_ nonce: UInt64, from requester: PeerAddress, relayCandidates: [PeerAddress]) -> [Effect] {
        guard let relay = relayCandidates.first(where: { $0.hostBytes != requester.hostBytes }) else { return [] }
        return [.send(.relay(nonce: nonce, target: requester), to: relay),
                .send(.relayed(nonce: nonce, via: relay), to: requester)]
    }

    /// The shell sent something to `address`: a NAT in front of us may now let that host in.
    public mutating func noteSent(to address: PeerAddress, nowMs: UInt64) {
        let host = address.hostBytes
        if recentContacts[host] == nil, recentContacts.count >= config.maxRecentContacts {
            // Not remembered: until a mapping toward it has surely closed, no probe proves anything.
            saturatedUntilMs = max(saturatedUntilMs, nowMs &+ config.natMappingMs)
            return
        }
        recentContacts[host] = nowMs
    }

    /// Whether we may have opened a NAT mapping toward `host` (or cannot tell: the table is full).
    func mayHaveContacted(_ host: [UInt8], nowMs: UInt64) -> Bool {
        if recentContacts.count >= config.maxRecentContacts || nowMs < saturatedUntilMs { return true }
        return recentContacts[host].map { nowMs < $0 &+ config.natMappingMs } ?? false
    }

    /// As A: helper B names the relay it asked. A relay we contacted recently could reach us
    /// through our own NAT mapping, so that check can prove nothing and is dropped.
    public mutating func handleRelayed(_ nonce: UInt64, via relay: PeerAddress, from helper: PeerAddress,
                                       nowMs: UInt64) -> [Effect] {
        guard var check = pending[nonce], check.helper == helper, check.relay == nil else { return [.ignored(.unexpected)] }
        if mayHaveContacted(relay.hostBytes, nowMs: nowMs) {
            pending[nonce] = nil
            return []
        }
        check.relay = relay
        pending[nonce] = check
        return []
    }

    /// As C: probes `target`, unless `maxProbesPerMinute` probes went out in the last minute.
    public mutating func handleRelay(_ nonce: UInt64, target: PeerAddress, nowMs: UInt64) -> [Effect] {
        pruneProbes(nowMs: nowMs)
        guard probeTimes.count < config.maxProbesPerMinute else { return [.ignored(.rateLimited)] }
        probeTimes.append(nowMs)
        return [.send(.probe(nonce: nonce), to: target)]
    }

    /// As A: a probe for a pending nonce from a host we did not ask proves us reachable.
    public mutating func handleProbe(_ nonce: UInt64, from source: PeerAddress, nowMs: UInt64) -> [Effect] {
        guard let check = pending[nonce], check.deadlineMs > nowMs else { return [.ignored(.unexpected)] }
        let helperHosts = Set(pending.values.map(\.helper.hostBytes))
        let recent = askedHelpers[source.hostBytes].map { nowMs < $0 &+ config.helperMemoryMs } ?? false
        guard !helperHosts.contains(source.hostBytes), !recent,
              !mayHaveContacted(source.hostBytes, nowMs: nowMs) else {
            // The relay's probe did arrive, but through a mapping we may have opened since: this
            // check proves nothing either way (it must not count as failed when it times out).
            if check.relay?.hostBytes == source.hostBytes { pending[nonce]?.ambiguous = true }
            return [.ignored(.unexpected)]
        }
        pending = [:]
        failedRelays = []
        failedHelpers = []
        return setStatus(.reachable)
    }

    /// Times out checks, forgets stale reports and helpers. When the last pending check times
    /// out without a valid probe, the node is unreachable.
    public mutating func expire(nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        let expired = pending.filter { $0.value.deadlineMs <= nowMs }
        for nonce in expired.keys { pending[nonce] = nil }
        for check in expired.values where !check.ambiguous && failedRelays.count < config.maxPendingChecks {
            if let relay = check.relay {
                failedRelays.insert(relay.hostBytes)
                failedHelpers.insert(check.helper.hostBytes)
            }
        }
        let needed = max(1, config.minFailedRelays)
        if pending.isEmpty, failedRelays.count >= needed, failedHelpers.count >= needed {
            failedRelays = []
            failedHelpers = []
            effects += setStatus(.unreachable)
        }
        recentContacts = recentContacts.filter { nowMs < $0.value &+ config.natMappingMs }

        if nowMs >= config.observationTtlMs {
            let cutoff = nowMs - config.observationTtlMs
            for candidate in tallies.keys.sorted() {
                tallies[candidate]?.removeAll { $0.atMs < cutoff }
                if tallies[candidate]?.isEmpty == true { tallies[candidate] = nil }
            }
        }
        effects += recomputeConfirmed()
        askedHelpers = askedHelpers.filter { nowMs < $0.value &+ config.helperMemoryMs }
        pruneProbes(nowMs: nowMs)
        return effects
    }

    private mutating func setStatus(_ new: Status) -> [Effect] {
        guard new != status else { return [] }
        status = new
        return [.statusChanged(new)]
    }

    private mutating func rememberHelper(_ host: [UInt8], nowMs: UInt64) {
        if askedHelpers[host] == nil, askedHelpers.count >= config.maxRememberedHelpers,
           let oldest = askedHelpers.min(by: { a, b in
               a.value != b.value ? a.value < b.value : a.key.lexicographicallyPrecedes(b.key)
           }) {
            askedHelpers[oldest.key] = nil
        }
        askedHelpers[host] = nowMs
    }

    private mutating func pruneProbes(nowMs: UInt64) {
        probeTimes.removeAll { $0 &+ 60_000 <= nowMs }
    }
}
