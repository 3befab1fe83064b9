import PRSMWire

/// An immutable DHT record as a `RecordStore` holds it. `key` is always BLAKE2b-256 of `value`.
public struct DHTRecord: Equatable, Sendable {
    public let key: Digest32
    public let value: [UInt8]
    /// The remote peer charged for this record; nil for a record we published ourselves.
    public internal(set) var publisher: PublicKey?
    /// When this copy was first stored here (or, for our own record, when we put it).
    public internal(set) var storedAtMs: UInt64
    /// When a remote copy expires unless re-stored first. Our own records never expire while
    /// we run: `UInt64.max`.
    public internal(set) var expiresAtMs: UInt64
    /// When this node last replicated the record to the nodes closest to its key; nil when it
    /// never has (a fresh record of our own, due at once). A remote copy starts at its store time.
    public internal(set) var lastReplicatedMs: UInt64?

    public init(key: Digest32, value: [UInt8], publisher: PublicKey?, storedAtMs: UInt64, expiresAtMs: UInt64,
                lastReplicatedMs: UInt64?) {
        self.key = key
        self.value = value
        self.publisher = publisher
        self.storedAtMs = storedAtMs
        self.expiresAtMs = expiresAtMs
        self.lastReplicatedMs = lastReplicatedMs
    }

    /// Whether we published this record ourselves.
    public var isLocal: Bool { publisher == nil }

    /// Whether this copy has expired at `nowMs` (never, for our own records).
    public func isExpired(nowMs: UInt64) -> Bool { publisher != nil && nowMs >= expiresAtMs }
}
