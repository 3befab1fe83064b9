/// Node ids and IP addresses the shell banned, until their bans end: lookups do not ask them
/// (their answers would be dropped unread, so each request would only wait for its timeout).
/// Bounded: when full, ended bans go first, then the one ending soonest.
struct BannedContacts: Sendable {
    let limit: Int
    private var ids: [NodeID: UInt64] = [:]
    private var hosts: [[UInt8]: UInt64] = [:]

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
    }

    func excludes(_ contact: Contact, nowMs: UInt64) -> Bool {
        if let until = ids[contact.id], until > nowMs { return true }
        // Host bans are rare: the address's host bytes are built only when some exist.
        if !hosts.isEmpty, let until = hosts[contact.address.reputationHost], until > nowMs { return true }
        return false
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
