import PRSMWire

/// The immutable records this node holds for the DHT, keyed by BLAKE2b-256 of the value.
///
/// Pure and bounded: time is passed in; lookups use dictionaries, and wherever an order decides
/// behaviour (eviction, expiry, replication, `keys`) it comes from sorting by (expiry, key) or key,
/// never from dictionary iteration.
///
/// - Remote copies (`store`) are charged to the publishing peer (at most `maxRecordsPerPeer`
///   each), expire `recordTTLMs` after their last (re-)store, and may be evicted, soonest expiry
///   first, to make room within `maxRecords` / `maxBytes`.
/// - Our own records (`storeLocal`) are never charged, never expire and never evicted. They count
///   toward the totals; the local API that calls `storeLocal` bounds how many there are.
/// - `count`, `totalBytes`, `keys` and `count(from:)` include expired remote copies until
///   `expire(nowMs:)` removes them; `value(for:nowMs:)` and `dueForReplication` already skip them.
///   Expired copies expire soonest, so they are the first evicted under pressure.
/// - Values longer than `DHTLimits.maxValueSize` cannot arrive: `StoreRequest.decode` refuses
///   them. `store` still answers `.storeFull` for one (it never traps on remote input);
///   `storeLocal` treats one as a programmer error (precondition).
public struct RecordStore: Sendable {
    public struct Config: Sendable, Equatable {
        /// Total records held (remote and our own).
        public var maxRecords = 20_000
        /// Total value bytes held (remote and our own).
        public var maxBytes = 16 << 20
        /// Records one remote publisher key may have charged here.
        public var maxRecordsPerPeer = 256
        /// A stored remote copy expires this long after its last (re-)store.
        public var recordTTLMs: UInt64 = 86_400_000
        /// How often a holder re-replicates a record to the nodes closest to its key.
        public var republishIntervalMs: UInt64 = 3_600_000
        public init() {}
    }

    public let config: Config
    private(set) var records: [Digest32: DHTRecord] = [:]
    /// Remote records charged to each publisher; a key is removed when its count reaches zero,
    /// so this never has more entries than `records`.
    private(set) var perPublisher: [PublicKey: Int] = [:]
    public private(set) var totalBytes = 0
    private var localCount = 0
    private var localBytes = 0
    /// Every remote record's (expiry, key), soonest first, plus stale entries left by refreshes,
    /// removals and conversions (checked against `records` when popped, compacted when they pile up).
    private(set) var expiryQueue = ExpiryQueue()

    public init(config: Config = Config()) {
        precondition(config.maxRecords >= 0 && config.maxBytes >= 0 && config.maxRecordsPerPeer >= 0,
                     "record store limits must not be negative")
        self.config = config
    }

    public var count: Int { records.count }

    /// Remote records currently charged to `publisher`.
    public func count(from publisher: PublicKey) -> Int { perPublisher[publisher] ?? 0 }

    /// The keys held, sorted.
    public var keys: [Digest32] { records.keys.sorted() }

    /// The value under `key`; nil when absent or when the remote copy has expired.
    public func value(for key: Digest32, nowMs: UInt64) -> [UInt8]? {
        guard let record = records[key], !record.isExpired(nowMs: nowMs) else { return nil }
        return record.value
    }

    /// The record under `key` as held (expired or not), for inspection.
    public func record(for key: Digest32) -> DHTRecord? { records[key] }

    /// A STORE from a remote peer.
    ///
    /// Re-storing a held key refreshes its expiry (and counts as a replication, as in Kademlia:
    /// whoever re-stored it also sent it to the other closest nodes) without double counting;
    /// the first storer stays charged. A re-store of a copy that has already expired is a fresh
    /// store. A re-store of one of our own records changes nothing.
    /// A new record beyond the publisher's quota is refused with `.peerQuotaFull`. When the total
    /// count or bytes would be exceeded, remote records are evicted, soonest expiry first (ties:
    /// smallest key); our own are never evicted, and if evicting every remote record would still
    /// not make room, nothing is evicted and the answer is `.storeFull`.
    public mutating func store(_ value: [UInt8], from publisher: PublicKey, nowMs: UInt64) -> StoreReply.Status {
        // The wire decoder already bounds values; refuse rather than trap on anything else.
        guard value.count <= DHTLimits.maxValueSize else { return .storeFull }
        let key = Blake2b.hash256(value)

        if var existing = records[key] {
            if existing.publisher == nil { return .stored }
            if !existing.isExpired(nowMs: nowMs) {
                let expiry = max(existing.expiresAtMs, expiry(from: nowMs))
                if expiry != existing.expiresAtMs {
                    existing.expiresAtMs = expiry
                    enqueueExpiry(expiry, key)
                }
                existing.lastReplicatedMs = max(existing.lastReplicatedMs ?? 0, nowMs)
                records[key] = existing
                return .stored
            }
            remove(key)
        }

        if count(from: publisher) >= config.maxRecordsPerPeer { return .peerQuotaFull }
        guard localCount + 1 <= config.maxRecords, localBytes + value.count <= config.maxBytes else {
            return .storeFull
        }
        makeRoom(for: value.count)

        let expiry = expiry(from: nowMs)
        insert(DHTRecord(key: key, value: value, publisher: publisher, storedAtMs: nowMs, expiresAtMs: expiry,
                         lastReplicatedMs: nowMs))
        enqueueExpiry(expiry, key)
        return .stored
    }

    /// Our own put: held like a remote record but never charged to a peer, never expired and
    /// never evicted. Remote records are evicted to make room as for `store`; if only our own
    /// records are left, the store grows past its totals (the caller bounds our own puts).
    /// A fresh record is due for replication at once. Putting a value a peer already stored here
    /// makes it ours (uncharging that peer); putting one of our own again changes nothing.
    /// A value longer than `DHTLimits.maxValueSize` is a programmer error.
    @discardableResult
    public mutating func storeLocal(_ value: [UInt8], nowMs: UInt64) -> Digest32 {
        precondition(value.count <= DHTLimits.maxValueSize,
                     "a DHT value is at most \(DHTLimits.maxValueSize) bytes, got \(value.count)")
        let key = Blake2b.hash256(value)
        let own = DHTRecord(key: key, value: value, publisher: nil, storedAtMs: nowMs, expiresAtMs: .max,
                            lastReplicatedMs: nil)
        if let existing = records[key] {
            if existing.publisher == nil { return key }
            remove(key)
        }
        makeRoom(for: value.count)
        insert(own)
        return key
    }

    /// Removes expired remote copies, soonest expiry first; returns how many were removed.
    /// Our own records never expire while we run.
    @discardableResult
    public mutating func expire(nowMs: UInt64) -> Int {
        var removed = 0
        while let next = expiryQueue.min, next.expiresAtMs <= nowMs {
            expiryQueue.popMin()
            if isLive(next) {
                remove(next.key)
                removed += 1
            }
        }
        return removed
    }

    /// Unexpired records never replicated, or last replicated at least `republishIntervalMs`
    /// before `nowMs`, ordered by key, at most `limit` of them.
    public func dueForReplication(nowMs: UInt64, limit: Int) -> [DHTRecord] {
        guard limit > 0 else { return [] }
        let due = records.values.filter { record in
            guard !record.isExpired(nowMs: nowMs) else { return false }
            guard let last = record.lastReplicatedMs else { return true }
            return nowMs >= last && nowMs - last >= config.republishIntervalMs
        }
        return Array(due.sorted { $0.key < $1.key }.prefix(limit))
    }

    /// Records that `key` was replicated at `nowMs`. Unknown keys are ignored.
    public mutating func markReplicated(_ key: Digest32, nowMs: UInt64) {
        records[key]?.lastReplicatedMs = nowMs
    }

    // MARK: - Internals

    private func expiry(from nowMs: UInt64) -> UInt64 {
        let (sum, overflow) = nowMs.addingReportingOverflow(config.recordTTLMs)
        return overflow ? .max : sum
    }

    private mutating func insert(_ record: DHTRecord) {
        records[record.key] = record
        totalBytes += record.value.count
        if let publisher = record.publisher {
            perPublisher[publisher, default: 0] += 1
        } else {
            localCount += 1
            localBytes += record.value.count
        }
    }

    private mutating func remove(_ key: Digest32) {
        guard let record = records.removeValue(forKey: key) else { return }
        totalBytes -= record.value.count
        if let publisher = record.publisher {
            let remaining = (perPublisher[publisher] ?? 1) - 1
            perPublisher[publisher] = remaining > 0 ? remaining : nil
        } else {
            localCount -= 1
            localBytes -= record.value.count
        }
    }

    /// Evicts remote records, soonest expiry first, until `size` more bytes and one more record
    /// fit, or no remote record is left.
    private mutating func makeRoom(for size: Int) {
        while records.count + 1 > config.maxRecords || totalBytes + size > config.maxBytes {
            guard let next = expiryQueue.min else { return }
            expiryQueue.popMin()
            if isLive(next) { remove(next.key) }
        }
    }

    /// Whether a queue entry still describes a held remote record.
    private func isLive(_ entry: ExpiryQueue.Entry) -> Bool {
        guard let record = records[entry.key] else { return false }
        return record.publisher != nil && record.expiresAtMs == entry.expiresAtMs
    }

    private mutating func enqueueExpiry(_ expiresAtMs: UInt64, _ key: Digest32) {
        expiryQueue.insert(ExpiryQueue.Entry(expiresAtMs: expiresAtMs, key: key))
        let remote = records.count - localCount
        if expiryQueue.count > 2 * remote + 64 {
            // Rebuild from the live records; a sorted array is a valid min-heap.
            let live = records.values.compactMap { record in
                record.publisher == nil ? nil : ExpiryQueue.Entry(expiresAtMs: record.expiresAtMs, key: record.key)
            }
            expiryQueue = ExpiryQueue(sorted: live.sorted())
        }
    }
}

/// A binary min-heap of (expiry, key), ordered by expiry then key.
struct ExpiryQueue: Sendable {
    struct Entry: Comparable, Sendable {
        let expiresAtMs: UInt64
        let key: Digest32

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.expiresAtMs != rhs.expiresAtMs ? lhs.expiresAtMs < rhs.expiresAtMs : lhs.key < rhs.key
        }
    }

    private var heap: [Entry]

    init() { heap = [] }
    init(sorted: [Entry]) { heap = sorted }

    var count: Int { heap.count }
    var min: Entry? { heap.first }

    mutating func insert(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left] < heap[smallest] { smallest = left }
            if right < heap.count && heap[right] < heap[smallest] { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
