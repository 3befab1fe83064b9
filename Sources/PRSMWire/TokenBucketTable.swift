/// Token buckets keyed by source (an address, a prefix, a peer), in integer milli-tokens so
/// results are identical on every machine. The table is bounded: when full, buckets that have
/// refilled completely are forgotten first (nothing is lost by that), then the least recently
/// used half. Refilled buckets are also swept out once per refill period, so the table holds
/// only recently active sources rather than every source ever seen until it is full.
public struct TokenBucketTable<Key: Hashable & Sendable>: Sendable {
    public struct Config: Sendable {
        public var perSecond: UInt64
        public var burst: UInt64
        public var maxEntries: Int
        public init(perSecond: UInt64, burst: UInt64, maxEntries: Int) {
            self.perSecond = perSecond
            self.burst = burst
            self.maxEntries = maxEntries
        }
    }

    struct Bucket: Sendable {
        var milliTokens: UInt64
        var lastMs: UInt64
        var sequence: UInt64
    }

    public let config: Config
    private var buckets: [Key: Bucket] = [:]
    private var touches: UInt64 = 0
    /// When refilled buckets were last swept out.
    private var lastSweepMs: UInt64 = 0

    public init(config: Config) { self.config = config }

    public var count: Int { buckets.count }

    /// Takes one token for `key` if it has one.
    public mutating func allow(_ key: Key, nowMs: UInt64) -> Bool {
        let capacity = config.burst * 1000
        touches += 1
        var bucket: Bucket
        if let existing = buckets[key] {
            bucket = existing
            let elapsed = nowMs > bucket.lastMs ? nowMs - bucket.lastMs : 0
            bucket.milliTokens = min(capacity, bucket.milliTokens &+ elapsed &* config.perSecond)
        } else {
            if buckets.count >= config.maxEntries {
                makeRoom(nowMs: nowMs)
            } else if let refill = refillMs, nowMs >= lastSweepMs &+ refill {
                lastSweepMs = nowMs
                forgetRefilled(nowMs: nowMs)
            }
            bucket = Bucket(milliTokens: capacity, lastMs: nowMs, sequence: 0)
        }
        bucket.lastMs = max(bucket.lastMs, nowMs)
        bucket.sequence = touches
        let allowed = bucket.milliTokens >= 1000
        if allowed { bucket.milliTokens -= 1000 }
        buckets[key] = bucket
        return allowed
    }

    /// How long an empty bucket takes to refill completely (nil: buckets never refill).
    private var refillMs: UInt64? {
        config.perSecond == 0 ? nil : (config.burst * 1000 + config.perSecond - 1) / config.perSecond
    }

    /// Drops buckets that have refilled completely: one is recreated full on the key's next
    /// use, so no answer changes.
    private mutating func forgetRefilled(nowMs: UInt64) {
        let capacity = config.burst * 1000
        buckets = buckets.filter { _, bucket in
            let elapsed = nowMs > bucket.lastMs ? nowMs - bucket.lastMs : 0
            return bucket.milliTokens &+ elapsed &* config.perSecond < capacity
        }
    }

    private mutating func makeRoom(nowMs: UInt64) {
        forgetRefilled(nowMs: nowMs)
        guard buckets.count >= config.maxEntries else { return }
        // Touch order is a per-table counter, so this choice never depends on hash order.
        // Keep the newer half, and always free at least one slot (a table of one entry too).
        let cutoff = buckets.values.map(\.sequence).sorted()[(buckets.count - 1) / 2]
        buckets = buckets.filter { $0.value.sequence > cutoff }
    }
}
