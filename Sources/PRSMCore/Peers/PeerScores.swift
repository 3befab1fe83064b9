/// Reputation per signing key and per IP address (the port ignored; an IPv6 address counts as
/// its /64, `PeerAddress.reputationHost`), with bans.
///
/// A score starts at 0, moves by a fixed amount per event, stays within `minScore...maxScore`
/// and decays one point per `decayIntervalMs` toward 0, so old sins (and old merits) fade.
/// Reaching `banThreshold` bans the subject until `nowMs + banDurationMs` and yields evidence.
/// Rate-limit violations are scored per IP: those datagrams are dropped before their signatures
/// are checked, so their claimed key proves nothing.
///
/// Timeouts alone never ban: a timeout lowers a score only down to `timeoutFloor`, above the ban
/// threshold. A peer that is merely offline (named in stale lookup replies, asked again and again)
/// is not one that misbehaves, and a ban would refuse it for an hour once it is back. A peer that
/// times out and also sends invalid messages is banned sooner.
///
/// A useful answer opens no entry through `creditIfTracked`: a DHT node talks to hundreds of
/// keys, and an entry per answerer would cost memory for a credit that only ever offsets debts.
///
/// Both tables are bounded. When a new subject arrives at a full table, the entry evicted is
/// an unbanned one closest to neutral (then the least recently scored, then the smallest
/// subject); banned entries go only when every entry is banned (the ban ending first).
/// Pure: time is an input, no iteration order decides anything.
public struct PeerScores: Sendable {
    public struct Config: Sendable {
        public var minScore = -100
        public var maxScore = 100
        public var banThreshold = -50
        public var banDurationMs: UInt64 = 3_600_000
        /// One point toward 0 per interval; 0 switches decay off.
        public var decayIntervalMs: UInt64 = 60_000
        /// How often `expire` sweeps the tables. Decay and ban ends apply on every read anyway;
        /// the sweep only frees entries back at neutral, so a node calling `expire` every tick
        /// does not sort and rewrite thousands of entries each second.
        public var sweepIntervalMs: UInt64 = 10_000
        public var maxKeys = 4_096
        public var maxAddresses = 4_096

        public var usefulAnswer = 1
        public var timeout = -2
        public var invalidMessage = -10
        public var rateLimited = -5
        /// Timeouts lower a score no further than this (see the type's comment); it must stay
        /// above `banThreshold`.
        public var timeoutFloor = -20

        public init() {}

        public func delta(_ event: Event) -> Int {
            switch event {
            case .usefulAnswer: return usefulAnswer
            case .timeout: return timeout
            case .invalidMessage: return invalidMessage
            case .rateLimited: return rateLimited
            }
        }
    }

    public enum Event: String, Sendable, CaseIterable {
        case usefulAnswer = "useful-answer"
        case timeout = "timeout"
        case invalidMessage = "invalid-message"
        case rateLimited = "rate-limited"
    }

    public let config: Config
    private var keys: ScoreTable<PublicKey>
    private var addresses: ScoreTable<[UInt8]>
    private var lastSweepMs: UInt64?

    public init(config: Config = Config()) {
        self.config = config
        keys = ScoreTable(limit: config.maxKeys, precedes: <)
        addresses = ScoreTable(limit: config.maxAddresses) { $0.lexicographicallyPrecedes($1) }
    }

    public var trackedKeys: Int { keys.count }
    public var trackedAddresses: Int { addresses.count }

    /// Scores `event` against a key. Returns the ban evidence when this event caused a ban.
    public mutating func record(_ event: Event, key: PublicKey, nowMs: UInt64) -> Misbehaviour? {
        keys.record(config.delta(event), floor: floor(for: event), for: key, nowMs: nowMs, config: config).map {
            Self.evidence(.key(key), event: event, score: $0, nowMs: nowMs, config: config)
        }
    }

    /// A useful answer from `key`, credited only when the key already has a score (a debt to
    /// repay, or credit already earned). Returns whether it was credited.
    @discardableResult
    public mutating func creditIfTracked(key: PublicKey, nowMs: UInt64) -> Bool {
        guard keys.tracks(key) else { return false }
        _ = keys.record(config.usefulAnswer, floor: nil, for: key, nowMs: nowMs, config: config)
        return true
    }

    /// Scores `event` against the IP address of `address` (its port is ignored).
    public mutating func record(_ event: Event, address: PeerAddress, nowMs: UInt64) -> Misbehaviour? {
        addresses.record(config.delta(event), floor: floor(for: event), for: address.reputationHost, nowMs: nowMs,
                         config: config).map {
            Self.evidence(.ip(address.reputationHost), event: event, score: $0, nowMs: nowMs, config: config)
        }
    }

    /// The key's current score after decay (0 when unknown).
    public func score(of key: PublicKey, nowMs: UInt64) -> Int { keys.score(of: key, nowMs: nowMs, config: config) }

    /// The score of the IP address of `address` after decay (0 when unknown).
    public func score(of address: PeerAddress, nowMs: UInt64) -> Int {
        addresses.score(of: address.reputationHost, nowMs: nowMs, config: config)
    }

    public func isBanned(key: PublicKey, nowMs: UInt64) -> Bool { keys.isBanned(key, nowMs: nowMs) }

    /// True when the IP address of `address` is banned, whatever the port.
    public func isBanned(address: PeerAddress, nowMs: UInt64) -> Bool {
        addresses.isBanned(address.reputationHost, nowMs: nowMs)
    }

    /// When the key's ban ends, if it is banned.
    public func bannedUntil(key: PublicKey, nowMs: UInt64) -> UInt64? { keys.bannedUntil(key, nowMs: nowMs) }

    public func bannedUntil(address: PeerAddress, nowMs: UInt64) -> UInt64? {
        addresses.bannedUntil(address.reputationHost, nowMs: nowMs)
    }

    /// Keys banned at `nowMs`, sorted.
    public func bannedKeys(nowMs: UInt64) -> [PublicKey] { keys.banned(nowMs: nowMs) }

    /// IP addresses (`reputationHost` bytes) banned at `nowMs`, sorted.
    public func bannedAddresses(nowMs: UInt64) -> [[UInt8]] { addresses.banned(nowMs: nowMs) }

    /// Ends bans that ran out, applies decay, and forgets subjects back at a neutral score.
    public mutating func expire(nowMs: UInt64) {
        if let last = lastSweepMs, nowMs < last &+ config.sweepIntervalMs { return }
        lastSweepMs = nowMs
        keys.expire(nowMs: nowMs, config: config)
        addresses.expire(nowMs: nowMs, config: config)
    }

    private func floor(for event: Event) -> Int? { event == .timeout ? config.timeoutFloor : nil }

    static func evidence(_ subject: Misbehaviour.Subject, event: Event, score: Int, nowMs: UInt64,
                         config: Config) -> Misbehaviour {
        Misbehaviour(subject: subject, kind: .banned, atMs: nowMs,
                     detail: "score \(score) after \(event.rawValue) reached the ban threshold "
                         + "\(config.banThreshold); banned until \(nowMs &+ config.banDurationMs)")
    }
}

/// One bounded table of scores; the subject type's order breaks ties deterministically.
struct ScoreTable<Subject: Hashable & Sendable>: Sendable {
    struct Entry: Sendable {
        var score = 0
        /// Decay has been applied up to this time.
        var decayedAtMs: UInt64
        var lastEventMs: UInt64
        /// 0: not banned.
        var bannedUntilMs: UInt64 = 0
    }

    let limit: Int
    let precedes: @Sendable (Subject, Subject) -> Bool
    private var entries: [Subject: Entry] = [:]

    init(limit: Int, precedes: @escaping @Sendable (Subject, Subject) -> Bool) {
        self.limit = max(1, limit)
        self.precedes = precedes
    }

    var count: Int { entries.count }

    func tracks(_ subject: Subject) -> Bool { entries[subject] != nil }

    func score(of subject: Subject, nowMs: UInt64, config: PeerScores.Config) -> Int {
        entries[subject].map { Self.decayed($0, nowMs: nowMs, config: config).score } ?? 0
    }

    func isBanned(_ subject: Subject, nowMs: UInt64) -> Bool { bannedUntil(subject, nowMs: nowMs) != nil }

    func bannedUntil(_ subject: Subject, nowMs: UInt64) -> UInt64? {
        guard let until = entries[subject]?.bannedUntilMs, until > nowMs else { return nil }
        return until
    }

    func banned(nowMs: UInt64) -> [Subject] {
        entries.filter { $0.value.bannedUntilMs > nowMs }.map(\.key).sorted(by: precedes)
    }

    /// Applies `delta`, not taking the score below `floor` (a score already below stays); returns
    /// the new score when the subject became banned by it.
    mutating func record(_ delta: Int, floor: Int?, for subject: Subject, nowMs: UInt64,
                         config: PeerScores.Config) -> Int? {
        if entries[subject] == nil, entries.count >= limit { evictOne(nowMs: nowMs, config: config) }
        var entry = entries[subject].map { Self.decayed($0, nowMs: nowMs, config: config) }
            ?? Entry(decayedAtMs: nowMs, lastEventMs: nowMs)
        if entry.score == 0 { entry.decayedAtMs = nowMs }
        var score = min(config.maxScore, max(config.minScore, entry.score + delta))
        if let floor, delta < 0 { score = max(score, min(entry.score, floor)) }
        entry.score = score
        entry.lastEventMs = nowMs
        var newlyBanned = false
        // Only an offence starts a ban, and not one with a floor above the threshold (a timeout),
        // even on a score still below it from earlier offences whose ban ran out.
        let mayBan = delta < 0 && (floor.map { $0 <= config.banThreshold } ?? true)
        if mayBan, entry.score <= config.banThreshold, entry.bannedUntilMs <= nowMs {
            entry.bannedUntilMs = nowMs &+ config.banDurationMs
            newlyBanned = true
        }
        entries[subject] = entry
        return newlyBanned ? entry.score : nil
    }

    mutating func expire(nowMs: UInt64, config: PeerScores.Config) {
        for subject in entries.keys.sorted(by: precedes) {
            guard var entry = entries[subject] else { continue }
            entry = Self.decayed(entry, nowMs: nowMs, config: config)
            if entry.bannedUntilMs != 0, entry.bannedUntilMs <= nowMs { entry.bannedUntilMs = 0 }
            entries[subject] = entry.score == 0 && entry.bannedUntilMs == 0 ? nil : entry
        }
    }

    /// Moves the score toward 0 by one point per whole decay interval since the last decay.
    static func decayed(_ entry: Entry, nowMs: UInt64, config: PeerScores.Config) -> Entry {
        var entry = entry
        guard config.decayIntervalMs > 0, nowMs > entry.decayedAtMs else { return entry }
        let steps = (nowMs - entry.decayedAtMs) / config.decayIntervalMs
        guard steps > 0 else { return entry }
        let magnitude = UInt64(entry.score.magnitude)
        if steps >= magnitude {
            entry.score = 0
            entry.decayedAtMs = nowMs
        } else {
            entry.score += entry.score > 0 ? -Int(steps) : Int(steps)
            entry.decayedAtMs += steps * config.decayIntervalMs
        }
        return entry
    }

    private mutating func evictOne(nowMs: UInt64, config: PeerScores.Config) {
        let ranked = entries.map { (subject: $0.key, entry: Self.decayed($0.value, nowMs: nowMs, config: config)) }
        let unbanned = ranked.filter { $0.entry.bannedUntilMs <= nowMs }
        let victim: Subject?
        if unbanned.isEmpty {
            victim = ranked.min { a, b in
                if a.entry.bannedUntilMs != b.entry.bannedUntilMs { return a.entry.bannedUntilMs < b.entry.bannedUntilMs }
                return precedes(a.subject, b.subject)
            }?.subject
        } else {
            victim = unbanned.min { a, b in
                let (ma, mb) = (a.entry.score.magnitude, b.entry.score.magnitude)
                if ma != mb { return ma < mb }
                if a.entry.lastEventMs != b.entry.lastEventMs { return a.entry.lastEventMs < b.entry.lastEventMs }
                return precedes(a.subject, b.subject)
            }?.subject
        }
        if let victim { entries[victim] = nil }
    }
}
