import PRSMWire

/// One bucket of the routing table: the contacts sharing a given common prefix length with us.
/// Mutated only by `RoutingTable`, which keeps its invariants (bounds, ordering, no id twice).
struct KBucket: Sendable {
    /// A table entry with the failures reported since its last answer.
    struct Entry: Sendable {
        var contact: Contact
        var failures: Int
    }

    /// A ping we asked the shell to send to the least-recently-seen entry of a full bucket.
    struct LivenessCheck: Sendable {
        let id: NodeID
        let sinceMs: UInt64
    }

    /// At most k entries, least recently seen first (ascending `lastSeenMs`).
    var entries: [Entry] = []
    /// Contacts that answered while the bucket was full, most recent first, bounded.
    var replacements: [Contact] = []
    /// At most one liveness check in flight per bucket, so newcomers cannot cause a ping storm.
    var check: LivenessCheck?

    init() {}

    func entryPosition(of id: NodeID) -> Int? { entries.firstIndex { $0.contact.id == id } }
    func replacementPosition(of id: NodeID) -> Int? { replacements.firstIndex { $0.id == id } }

    /// Inserts keeping entries ordered by `lastSeenMs` (after any with the same time), so
    /// `entries[0]` is always the least recently seen.
    mutating func place(_ entry: Entry) {
        let position = entries.firstIndex { $0.contact.lastSeenMs > entry.contact.lastSeenMs } ?? entries.count
        entries.insert(entry, at: position)
    }
}
