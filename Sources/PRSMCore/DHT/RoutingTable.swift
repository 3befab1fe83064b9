import PRSMWire

/// The Kademlia routing table as a pure, deterministic core: 256 buckets indexed by the common
/// prefix length of a contact's id with ours, each holding at most k contacts (least recently
/// seen first) and a bounded replacement cache.
///
/// Rules (Kademlia; rust-libp2p `kbucket`; BEP 5; S/Kademlia IP diversity):
/// - a contact enters only after it answered one of our requests (`recordAnswer`); a request it
///   sent us (`recordRequest`) refreshes an existing entry and never inserts;
/// - a full bucket parks a newcomer in its replacement cache and asks the shell to ping the
///   least-recently-seen entry (`.ping`); that entry is evicted only when the shell reports the
///   ping failed (`recordFailure`), and the freshest fitting replacement takes its place;
/// - `.added` is reported once per genuinely new table entry, never for an answer from a contact
///   already in the table or waiting in a cache, so callers replicate only to real newcomers;
/// - per network prefix (IPv4 /24, IPv6 /48) at most `maxPerPrefixPerBucket` contacts per bucket
///   and `maxPerPrefixPerTable` in the whole table;
/// - a full bucket keeps its contacts spread over its range (`spreadBits`): a newcomer from a
///   region of the range holding at least two fewer contacts than the most crowded region moves
///   that region's least-recently-seen contact to the replacement cache and takes its place, and
///   a freed slot goes to the candidate from the emptiest region.
///
/// Every input carries the current time; randomness (refresh targets) is supplied by the caller.
/// Nothing is decided by Dictionary or Set iteration order.
public struct RoutingTable: Sendable {
    public struct Config: Sendable, Equatable {
        /// Contacts per bucket.
        public var k = 20
        /// Replacement candidates remembered per bucket.
        public var replacementCacheSize = 20
        /// A bucket no lookup has touched for this long needs a refresh lookup.
        public var bucketRefreshIntervalMs: UInt64 = 3_600_000
        /// Contacts sharing one IPv4 /24 or IPv6 /48 within one bucket (and within its cache).
        public var maxPerPrefixPerBucket = 2
        /// Contacts sharing one IPv4 /24 or IPv6 /48 in the whole table.
        public var maxPerPrefixPerTable = 10
        /// An entry seen this recently is trusted: a newcomer does not trigger a ping of it
        /// (BEP 5's "good" nodes), which keeps busy full buckets from pinging on every answer.
        public var livenessCheckAfterMs: UInt64 = 60_000
        /// A liveness check the shell never reported on is abandoned after this long, so the
        /// bucket may start another one.
        public var livenessCheckTimeoutMs: UInt64 = 10_000
        /// An entry is removed after this many failures in a row even when no replacement is
        /// waiting; with a replacement waiting, one reported failure evicts it.
        public var maxConsecutiveFailures = 5
        /// A bucket's range is split into 2^spreadBits regions by the id bits after the bucket's
        /// own bit, and a full bucket keeps its contacts spread over them. Without it, the join's
        /// one refresh lookup per far bucket fills that bucket from the corner of the id space
        /// around the lookup's target, least-recently-seen eviction keeps them, and a get for a key
        /// elsewhere in that half of the space needs a second round. A newcomer displaces only
        /// toward balance, so a balanced bucket of live contacts cannot be flushed. 0 turns it off.
        public var spreadBits = 3

        public init() {}
    }

    public enum Effect: Equatable, Sendable {
        /// The bucket is full and a newcomer waits: ping this least-recently-seen entry and report
        /// the outcome with `recordAnswer` or `recordFailure`.
        case ping(Contact)
        /// A contact newly entered the table (first answer with room, or promoted from a cache).
        /// The only signal that should trigger replication to it.
        case added(Contact)
        /// A contact left the table.
        case evicted(Contact)
        /// An answer that could not enter the table (counted and logged by the shell).
        case refused(NodeID, Refusal)
    }

    public enum Refusal: Equatable, Sendable {
        /// Our own id never enters our table, and cannot be removed from it.
        case ownID
        /// Its bucket already holds `maxPerPrefixPerBucket` contacts from its network prefix.
        case bucketPrefixLimit
        /// The table already holds `maxPerPrefixPerTable` contacts from its network prefix.
        case tablePrefixLimit
    }

    public static let bucketCount = 256

    public let ownID: NodeID
    public let config: Config
    /// Buckets 0 up to the deepest one that ever held a contact or replacement; deeper buckets
    /// are empty and not stored (most of the 256 stay empty in any real network).
    private var buckets: [KBucket] = []
    /// Per bucket index, when a lookup last targeted an id in its range; an index not here (most
    /// of the 256 are never looked up) means `createdMs`. Looked up, never iterated; a full
    /// array was 2 KB per node.
    private var lastLookups: [Int: UInt64] = [:]
    private let createdMs: UInt64
    /// Table entries per network prefix (`prefixKey`); looked up, never iterated.
    private var prefixCounts: [UInt64: Int] = [:]

    /// Contacts in the table (replacement caches not included).
    public private(set) var count = 0
    /// Grows with every change worth persisting, so the shell saves only when needed.
    public private(set) var changes: UInt64 = 0

    public init(ownID: NodeID, config: Config = Config(), nowMs: UInt64) {
        precondition(config.k >= 1, "RoutingTable.Config.k must be at least 1")
        precondition(config.replacementCacheSize >= 0, "replacementCacheSize must not be negative")
        precondition(config.maxPerPrefixPerBucket >= 1 && config.maxPerPrefixPerTable >= 1,
                     "IP prefix limits must be at least 1 (use Int.max to disable)")
        precondition(config.maxConsecutiveFailures >= 1, "maxConsecutiveFailures must be at least 1")
        precondition((0...4).contains(config.spreadBits), "spreadBits must be 0 to 4")
        self.ownID = ownID
        self.config = config
        createdMs = nowMs
    }

    // MARK: Inputs

    /// `publicKey` answered one of our requests from `address` (the shell verified the signature
    /// and matched the answer to a request). The only way into the table.
    public mutating func recordAnswer(from publicKey: PublicKey, at address: PeerAddress, nowMs: UInt64) -> [Effect] {
        let id = publicKey.nodeID
        guard let index = bucketIndex(of: id) else { return [.refused(id, .ownID)] }
        growBuckets(through: index)
        if let position = buckets[index].entryPosition(of: id) {
            return refreshEntry(at: position, in: index, address: address, nowMs: nowMs)
        }
        let contact = Contact(id: id, publicKey: publicKey, address: address, lastSeenMs: nowMs)
        return admit(contact, into: index, nowMs: nowMs)
    }

    /// `publicKey` sent us a request from `address`. Refreshes its entry when it is already in the
    /// table at that address; never inserts, never touches a cache, and asks nothing of the shell.
    public mutating func recordRequest(from publicKey: PublicKey, at address: PeerAddress, nowMs: UInt64) {
        let id = publicKey.nodeID
        guard let index = storedBucketIndex(of: id), let position = buckets[index].entryPosition(of: id),
              buckets[index].entries[position].contact.address == address else { return }
        var entry = buckets[index].entries.remove(at: position)
        entry.contact.lastSeenMs = max(entry.contact.lastSeenMs, nowMs)
        buckets[index].place(entry)
        changes += 1
    }

    /// A request to `id` failed (after the shell's retries), including a liveness `.ping`.
    /// A table entry is evicted when a replacement can take its place, or after
    /// `maxConsecutiveFailures`; a waiting replacement is simply forgotten.
    public mutating func recordFailure(of id: NodeID, nowMs: UInt64) -> [Effect] {
        guard let (index, position) = tableEntryLeavingCache(id) else { return [] }
        let failed = buckets[index].entries[position].contact
        let replaceable = nextReplacement(in: index, excluding: failed) != nil
        if replaceable || buckets[index].entries[position].failures + 1 >= config.maxConsecutiveFailures {
            return [.evicted(removeEntry(at: position, in: index))] + promote(into: index)
        }
        buckets[index].entries[position].failures += 1
        changes += 1
        return []
    }

    /// Drops `id` from the table or its cache (a ban, a key the shell no longer trusts) and fills
    /// the freed slot from the replacement cache. Our own id is refused.
    public mutating func remove(_ id: NodeID) -> [Effect] {
        if id == ownID { return [.refused(id, .ownID)] }
        guard let (index, position) = tableEntryLeavingCache(id) else { return [] }
        return [.evicted(removeEntry(at: position, in: index))] + promote(into: index)
    }

    /// Shared first step of `recordFailure` and `remove`: a contact waiting in a replacement
    /// cache is simply forgotten (nil); a table entry is located, and a liveness check pending
    /// on it is cleared.
    private mutating func tableEntryLeavingCache(_ id: NodeID) -> (bucket: Int, position: Int)? {
        guard let index = storedBucketIndex(of: id) else { return nil }
        if let position = buckets[index].replacementPosition(of: id) {
            buckets[index].replacements.remove(at: position)
            changes += 1
            return nil
        }
        guard let position = buckets[index].entryPosition(of: id) else { return nil }
        if buckets[index].check?.id == id { buckets[index].check = nil }
        return (index, position)
    }

    /// A lookup for `target` started: the bucket covering it counts as refreshed.
    /// A lookup for our own id refreshes the deepest bucket.
    public mutating func recordLookup(of target: NodeID, nowMs: UInt64) {
        let index = min(ownID.commonPrefixLength(with: target), Self.bucketCount - 1)
        lastLookups[index] = max(lastLookupMs(ofBucket: index), nowMs)
    }

    // MARK: Queries

    /// The bucket `id` belongs in (its common prefix length with our id), or nil for our own id.
    public func bucketIndex(of id: NodeID) -> Int? {
        let length = ownID.commonPrefixLength(with: id)
        return length < Self.bucketCount ? length : nil
    }

    /// `bucketIndex(of:)` when that bucket is stored (it may hold `id`).
    private func storedBucketIndex(of id: NodeID) -> Int? {
        guard let index = bucketIndex(of: id), index < buckets.count else { return nil }
        return index
    }

    /// The `count` known contacts closest to `target` by XOR distance, nearest first. Exact: it
    /// returns `min(count, self.count)` contacts and never stops early.
    ///
    /// With c = commonPrefixLength(ownID, target), distances to `target` order whole buckets:
    /// bucket c is nearest (the distance's first set bit is after bit c), then every bucket > c
    /// together (first set bit exactly c), then buckets c-1, c-2, ... 0 (first set bit i).
    public func closest(to target: NodeID, count: Int) -> [Contact] {
        guard count > 0 else { return [] }
        let split = ownID.commonPrefixLength(with: target)
        var result: [Contact] = []
        result.reserveCapacity(Swift.min(count, self.count))
        func take(_ group: [Contact]) -> Bool {
            let wanted = count - result.count
            result += XORMetric.sorted(group, by: \.id, to: target).prefix(wanted)
            return result.count >= count
        }
        if split < buckets.count, take(contacts(inBucket: split)) { return result }
        if split + 1 < buckets.count,
           take(buckets[(split + 1)...].flatMap { $0.entries.map(\.contact) }) { return result }
        for index in stride(from: Swift.min(split, buckets.count) - 1, through: 0, by: -1)
        where take(contacts(inBucket: index)) {
            return result
        }
        return result
    }

    /// Bucket indices no lookup has touched for `bucketRefreshIntervalMs`, ascending. Only buckets
    /// up to the deepest non-empty one are listed (deeper ones are covered by the lookup for our
    /// own id); an empty table lists none (it needs a join, not a refresh).
    public func bucketsNeedingRefresh(nowMs: UInt64) -> [Int] {
        guard let deepest = buckets.lastIndex(where: { !$0.entries.isEmpty }) else { return [] }
        return (0...deepest).filter {
            Self.elapsed(since: lastLookupMs(ofBucket: $0), nowMs: nowMs) >= config.bucketRefreshIntervalMs
        }
    }

    /// A lookup target inside bucket `index`: our first `index` bits, the next bit flipped, the
    /// rest taken from `randomBytes` (at least 32 bytes, drawn by the caller from its generator).
    public func refreshTarget(forBucket index: Int, randomBytes: [UInt8]) -> NodeID {
        precondition((0..<Self.bucketCount).contains(index), "bucket index \(index) out of range")
        precondition(randomBytes.count >= 32, "refreshTarget needs 32 random bytes")
        let own = ownID.digest.bytes
        var bytes = [UInt8](repeating: 0, count: 32)
        for byteIndex in 0..<32 {
            let firstBit = byteIndex * 8
            let ownBits = Swift.max(0, Swift.min(8, index - firstBit))
            let ownMask = ~(UInt8(0xFF) >> ownBits)
            var byte = (own[byteIndex] & ownMask) | (randomBytes[byteIndex] & ~ownMask)
            if (firstBit..<firstBit + 8).contains(index) {
                let bit = UInt8(0x80) >> (index - firstBit)
                byte = (byte & ~bit) | (~own[byteIndex] & bit)
            }
            bytes[byteIndex] = byte
        }
        // Exactly 32 bytes, so the conversion cannot fail.
        return NodeID(digest: try! Digest32(bytes))
    }

    /// A lookup target inside region `region` of bucket `index` (see `Config.spreadBits`).
    public func refreshTarget(forBucket index: Int, region: Int, randomBytes: [UInt8]) -> NodeID {
        precondition((0..<(1 << config.spreadBits)).contains(region), "region \(region) out of range")
        var bytes = refreshTarget(forBucket: index, randomBytes: randomBytes).bytes
        for offset in 0..<config.spreadBits where index + 1 + offset < Self.bucketCount {
            let bit = index + 1 + offset
            let mask = UInt8(0x80) >> (bit % 8)
            let set = region & (1 << (config.spreadBits - 1 - offset)) != 0
            bytes[bit / 8] = set ? bytes[bit / 8] | mask : bytes[bit / 8] & ~mask
        }
        // Exactly 32 bytes, so the conversion cannot fail.
        return NodeID(digest: try! Digest32(bytes))
    }

    public func contains(_ id: NodeID) -> Bool {
        guard let index = storedBucketIndex(of: id) else { return false }
        return buckets[index].entryPosition(of: id) != nil
    }

    public func contact(for id: NodeID) -> Contact? {
        guard let index = storedBucketIndex(of: id), let position = buckets[index].entryPosition(of: id) else {
            return nil
        }
        return buckets[index].entries[position].contact
    }

    /// Whether `contact` (same key, same address) is in the table or a replacement cache, that
    /// is, whether it answered us from that address.
    public func holds(_ contact: Contact) -> Bool {
        guard let index = storedBucketIndex(of: contact.id) else { return false }
        if let position = buckets[index].entryPosition(of: contact.id) {
            return buckets[index].entries[position].contact.address == contact.address
        }
        return buckets[index].replacements.contains { $0.id == contact.id && $0.address == contact.address }
    }

    /// Whether `id` waits in its bucket's replacement cache.
    public func isReplacement(_ id: NodeID) -> Bool {
        guard let index = storedBucketIndex(of: id) else { return false }
        return buckets[index].replacementPosition(of: id) != nil
    }

    /// Whether a node new to us is worth a Ping to learn whether it answers: its bucket or that
    /// bucket's cache has room, or the freshest waiting candidate is older than
    /// `livenessCheckAfterMs`. A full bucket with a full, fresh cache gains nothing from another
    /// candidate, so a busy node does not pay a Ping round for every requester it does not know.
    public func wantsCandidate(_ id: NodeID, nowMs: UInt64) -> Bool {
        guard let index = bucketIndex(of: id) else { return false }
        guard index < buckets.count else { return true }
        let bucket = buckets[index]
        if bucket.entries.count < config.k || bucket.replacements.count < config.replacementCacheSize { return true }
        guard let freshest = bucket.replacements.lazy.map(\.lastSeenMs).max(),
              Self.elapsed(since: freshest, nowMs: nowMs) < config.livenessCheckAfterMs else { return true }
        // Asked for every unknown requester of a busy node: the region count comes last.
        return displaceablePosition(for: id, in: index) != nil
    }

    /// Whether `id`, were it to answer, would displace a contact of its full bucket to even out
    /// the bucket's spread (see `Config.spreadBits`).
    public func wouldDisplace(_ id: NodeID) -> Bool {
        guard let index = storedBucketIndex(of: id), buckets[index].entries.count >= config.k else { return false }
        return displaceablePosition(for: id, in: index) != nil
    }

    /// A bucket's contacts, least recently seen first.
    public func contacts(inBucket index: Int) -> [Contact] {
        index < buckets.count ? buckets[index].entries.map(\.contact) : []
    }

    /// A bucket's replacement cache, most recent first.
    public func replacements(inBucket index: Int) -> [Contact] {
        index < buckets.count ? buckets[index].replacements : []
    }

    /// The contact a bucket is waiting to hear about after a `.ping`, if any.
    public func pendingLivenessCheck(inBucket index: Int) -> NodeID? {
        index < buckets.count ? buckets[index].check?.id : nil
    }

    public func lastLookupMs(ofBucket index: Int) -> UInt64 {
        lastLookups[index] ?? createdMs
    }

    /// Every table contact, by bucket index then least recently seen first.
    public var allContacts: [Contact] { buckets.flatMap { $0.entries.map(\.contact) } }

    /// Contacts waiting in replacement caches, by bucket index then most recent first.
    public var allReplacements: [Contact] { buckets.flatMap(\.replacements) }

    /// Contacts waiting in replacement caches, over all buckets.
    public var replacementCount: Int { buckets.reduce(0) { $0 + $1.replacements.count } }

    // MARK: Transitions

    private mutating func refreshEntry(at position: Int, in index: Int, address: PeerAddress, nowMs: UInt64) -> [Effect] {
        var entry = buckets[index].entries[position]
        if buckets[index].check?.id == entry.contact.id { buckets[index].check = nil }
        if entry.contact.address.limitPrefix != address.limitPrefix,
           let refusal = diversityRefusal(for: address, in: index, excluding: entry.contact) {
            // It moved into a network that is already full here: it no longer fits the table.
            return [.evicted(removeEntry(at: position, in: index)), .refused(entry.contact.id, refusal)]
                + promote(into: index)
        }
        buckets[index].entries.remove(at: position)
        release(entry.contact.address)
        entry.contact.address = address
        entry.contact.lastSeenMs = max(entry.contact.lastSeenMs, nowMs)
        entry.failures = 0
        reserve(address)
        buckets[index].place(entry)
        changes += 1
        return []
    }

    private mutating func admit(_ contact: Contact, into index: Int, nowMs: UInt64) -> [Effect] {
        // A contact already waiting is refreshed below, never reported as new for answering again.
        if let position = buckets[index].replacementPosition(of: contact.id) {
            buckets[index].replacements.remove(at: position)
            changes += 1
        }
        if let refusal = diversityRefusal(for: contact.address, in: index, excluding: nil) {
            return [.refused(contact.id, refusal)]
        }
        if buckets[index].entries.count < config.k {
            insertEntry(contact, in: index)
            return [.added(contact)]
        }
        if let position = displaceablePosition(for: contact.id, in: index) {
            // The displaced contact is alive: it waits in the cache for the next free slot.
            if buckets[index].check?.id == buckets[index].entries[position].contact.id { buckets[index].check = nil }
            let displaced = removeEntry(at: position, in: index)
            insertEntry(contact, in: index)
            cache(displaced, in: index)
            return [.evicted(displaced), .added(contact)]
        }
        cache(contact, in: index)
        return startLivenessCheck(in: index, nowMs: nowMs)
    }

    private mutating func cache(_ contact: Contact, in index: Int) {
        let prefix = contact.address.limitPrefix
        var kept: [Contact] = [contact]
        var samePrefix = 1
        for waiting in buckets[index].replacements where kept.count < config.replacementCacheSize {
            if waiting.address.limitPrefix == prefix {
                if samePrefix >= config.maxPerPrefixPerBucket { continue }
                samePrefix += 1
            }
            kept.append(waiting)
        }
        buckets[index].replacements = Array(kept.prefix(config.replacementCacheSize))
        changes += 1
    }

    private mutating func startLivenessCheck(in index: Int, nowMs: UInt64) -> [Effect] {
        guard !buckets[index].replacements.isEmpty, let oldest = buckets[index].entries.first?.contact else { return [] }
        if let check = buckets[index].check,
           Self.elapsed(since: check.sinceMs, nowMs: nowMs) < config.livenessCheckTimeoutMs { return [] }
        guard Self.elapsed(since: oldest.lastSeenMs, nowMs: nowMs) >= config.livenessCheckAfterMs else { return [] }
        buckets[index].check = KBucket.LivenessCheck(id: oldest.id, sinceMs: nowMs)
        return [.ping(oldest)]
    }

    /// Fills free slots of a bucket from its cache, freshest fitting candidate first.
    private mutating func promote(into index: Int) -> [Effect] {
        var effects: [Effect] = []
        while buckets[index].entries.count < config.k, let position = nextReplacement(in: index, excluding: nil) {
            let contact = buckets[index].replacements.remove(at: position)
            insertEntry(contact, in: index)
            effects.append(.added(contact))
        }
        return effects
    }

    /// The cached contact that would fit the IP limits (were `excluding` gone) from the region with
    /// the fewest contacts, the freshest of those.
    private func nextReplacement(in index: Int, excluding: Contact?) -> Int? {
        let replacements = buckets[index].replacements
        let fitting = replacements.indices.lazy.filter {
            self.diversityRefusal(for: replacements[$0].address, in: index, excluding: excluding) == nil
        }
        guard config.spreadBits > 0 else { return fitting.first }
        var counts = regionCounts(inBucket: index)
        if let excluding, buckets[index].entryPosition(of: excluding.id) != nil {
            counts[region(of: excluding.id, inBucket: index)] -= 1
        }
        // `min(by:)` keeps the first of equals: the freshest.
        return fitting.min { counts[region(of: replacements[$0].id, inBucket: index)]
            < counts[region(of: replacements[$1].id, inBucket: index)] }
    }

    /// The region of bucket `index`'s range that `id` falls in: its `spreadBits` bits after the
    /// bucket's own bit.
    func region(of id: NodeID, inBucket index: Int) -> Int {
        id.bits(from: index + 1, count: config.spreadBits)
    }

    /// Table entries per region of bucket `index`.
    private func regionCounts(inBucket index: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: 1 << config.spreadBits)
        for entry in buckets[index].entries { counts[region(of: entry.contact.id, inBucket: index)] += 1 }
        return counts
    }

    /// In full bucket `index`, the entry a newcomer `id` displaces: the least-recently-seen of the
    /// most crowded region, when `id`'s region holds at least two fewer (so the move evens the
    /// spread and can never be undone by the displaced contact coming back).
    private func displaceablePosition(for id: NodeID, in index: Int) -> Int? {
        guard config.spreadBits > 0, index < buckets.count else { return nil }
        let counts = regionCounts(inBucket: index)
        let crowded = counts.max() ?? 0
        guard counts[region(of: id, inBucket: index)] + 2 <= crowded else { return nil }
        return buckets[index].entries.firstIndex { counts[region(of: $0.contact.id, inBucket: index)] == crowded }
    }

    private func diversityRefusal(for address: PeerAddress, in index: Int, excluding: Contact?) -> Refusal? {
        let prefix = address.limitPrefix
        let excluded = excluding.map { $0.address.limitPrefix == prefix ? 1 : 0 } ?? 0
        let inBucket = buckets[index].entries.reduce(0) { $0 + ($1.contact.address.limitPrefix == prefix ? 1 : 0) }
        if inBucket - excluded >= config.maxPerPrefixPerBucket { return .bucketPrefixLimit }
        if prefixCounts[Self.prefixKey(prefix), default: 0] - excluded >= config.maxPerPrefixPerTable {
            return .tablePrefixLimit
        }
        return nil
    }

    private mutating func insertEntry(_ contact: Contact, in index: Int) {
        // Grow a bucket's array by doubling only up to k: left to itself a full bucket of 20
        // would carry room for 32 entries.
        let held = buckets[index].entries.count
        if held == buckets[index].entries.capacity {
            buckets[index].entries.reserveCapacity(Swift.min(config.k, Swift.max(1, 2 * held)))
        }
        buckets[index].place(KBucket.Entry(contact: contact, failures: 0))
        reserve(contact.address)
        count += 1
        changes += 1
    }

    private mutating func removeEntry(at position: Int, in index: Int) -> Contact {
        let contact = buckets[index].entries.remove(at: position).contact
        release(contact.address)
        count -= 1
        changes += 1
        return contact
    }

    private mutating func reserve(_ address: PeerAddress) {
        prefixCounts[Self.prefixKey(address.limitPrefix), default: 0] += 1
    }

    private mutating func release(_ address: PeerAddress) {
        let prefix = Self.prefixKey(address.limitPrefix)
        let remaining = prefixCounts[prefix, default: 0] - 1
        prefixCounts[prefix] = remaining > 0 ? remaining : nil
    }

    /// A `limitPrefix` (family byte then 3 or 6 address bytes) packed into one integer, so the
    /// table keeps no heap array per prefix. Distinct prefixes give distinct keys: an IPv4 key
    /// is below 2³², an IPv6 key at least 6·2⁴⁸.
    static func prefixKey(_ prefix: [UInt8]) -> UInt64 {
        prefix.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func growBuckets(through index: Int) {
        while buckets.count <= index { buckets.append(KBucket()) }
    }

    private static func elapsed(since start: UInt64, nowMs: UInt64) -> UInt64 {
        nowMs >= start ? nowMs - start : 0
    }
}
