/// The DHT part of a topology's workload: who the seeds are, how joins are spread, and the
/// puts, gets and FIND_NODE lookups that random live nodes run once the network has formed.
public struct DHTWorkload: Sendable, Equatable {
    /// Indices of the nodes every other node joins through.
    public var bootstrap: [Int]
    /// Kademlia's k (bucket size, replication, lookup width).
    public var k = 20
    /// Nodes start (and join) at seeded random instants in [0, start_spread_ms).
    public var startSpreadMs: UInt64 = 0
    /// When the first operation starts.
    public var opsStartMs: UInt64 = 30_000
    /// Operations start this far apart (each runs concurrently with the ones still going).
    public var opIntervalMs: UInt64 = 100
    public var puts = 0
    /// Gets of each stored key, from random nodes, after all puts.
    public var getsPerPut = 0
    public var findNodes = 0
    /// How often a holder re-replicates a record (`records.republishIntervalMs`).
    public var republishIntervalMs: UInt64 = 3_600_000
    /// How long a simulated NAT keeps a mapping open after its node sent to a host; nodes assume
    /// twice this when judging dial-back probes.
    public var natMappingMs: UInt64 = 30_000
    /// The first dial-back check runs this long after a node joins.
    public var reachabilityCheckDelayMs: UInt64 = 150_000

    /// Pause between the last put and the first get.
    public static let putsSettleMs: UInt64 = 10_000

    /// When the last operation starts.
    public var opsEndMs: UInt64 {
        opsStartMs + Self.putsSettleMs + UInt64(puts * (1 + getsPerPut) + findNodes) * opIntervalMs
    }
}

/// Bounds the DHT checkers hold a run to.
public struct DHTChecks: Sendable, Equatable {
    /// Every live node must end with at least min(this, live nodes − 1) contacts (default k).
    public var minContacts: Int?
    /// STOREs accepted anywhere ÷ puts must stay at or below this (default 3k).
    public var maxStoresPerPut: Int?
    /// A node that (re)started less than this before the end is not yet held to `minContacts`.
    public var joinGraceMs: UInt64 = 60_000
}
