/// Node ids and IP addresses the shell banned, until their bans end: lookups and joins do not
/// ask them (their answers would be dropped unread, so each request would only wait for its
/// timeout). Bounded: when full, ended bans go first, then the one ending soonest.
struct BannedContacts: Sendable {
    let limit: Int
    private var ids: [NodeID: UInt64] = [:]
    private var hosts: [[UInt8]: UInt64] = [:]
    /// When the last host ban ends: past it, no address needs its host bytes built.
    private var hostBansEndMs: UInt64 = 0

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { ids.count + hosts.count }

    mutating func ban(_ id: NodeID, untilMs: UInt64, nowMs: UInt64) {
        Self.insert(id, untilMs: untilMs, into: &ids, limit: limit, nowMs: nowMs, precedes: <)
    }

    /// `host` is a `PeerAddress.reputationHost`.
    mutating func ban(host: [UInt8], untilMs: UInt64, nowMs: UInt64) {
        Self.insert(host, untilMs: untilMs, into: &hosts, limit: limit, nowMs: nowMs) {
            $0.lexicographicallyPrecedes($1)
        }
        hostBansEndMs = max(hostBansEndMs, untilMs)
    }

    func excludes(_ contact: Contact, nowMs: UInt64) -> Bool {
        excludes(id: contact.id, nowMs: nowMs) || excludes(address: contact.address, nowMs: nowMs)
    }

    func excludes(id: NodeID, nowMs: UInt64) -> Bool {
        guard let until = ids[id] else { return false }
        return until > nowMs
    }

    /// Whether the IP address of `address` is banned (any port).
    func excludes(address: PeerAddress, nowMs: UInt64) -> Bool {
        guard nowMs < hostBansEndMs, let until = hosts[address.reputationHost] else { return false }
        return until > nowMs
    }

    /// `precedes` breaks ties between bans ending at the same time, so eviction is deterministic.
    private static func insert<Subject: Hashable>(_ subject: Subject, untilMs: UInt64, into table: inout [Subject: UInt64],
                                                  limit: Int, nowMs: UInt64, precedes: (Subject, Subject) -> Bool) {
        guard untilMs > nowMs else { return }
        if table[subject] == nil, table.count >= limit {
            table = table.filter { $0.value > nowMs }
            if table.count >= limit, let soonest = table.min(by: {
                $0.value != $1.value ? $0.value < $1.value : precedes($0.key, $1.key)
            }) {
                table[soonest.key] = nil
            }
        }
        table[subject] = max(table[subject] ?? 0, untilMs)
    }
}
