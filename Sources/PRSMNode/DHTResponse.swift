/// What POST /dht/put and GET /dht/get/{key} answer with.
public struct DHTResponse: Codable, Sendable, Equatable {
    public var key: String
    /// The value in hex (get).
    public var value: String?
    /// Nodes that confirmed a STORE (put).
    public var storedAt: Int?
    public var hops: Int
    public var requests: Int
    public var durationMs: UInt64
    /// Why the operation failed (`not-found`, `no-contacts`, `not-stored`, `busy`, `too-large`).
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case key, value, storedAt = "stored_at", hops, requests, durationMs = "duration_ms", error
    }

    public init(_ result: DHTResult) {
        key = result.target.hex
        value = result.value.map { Hex.encode($0) }
        storedAt = result.kind == .put ? result.storedAt : nil
        hops = result.hops
        requests = result.requests
        durationMs = result.finishedMs >= result.startedMs ? result.finishedMs - result.startedMs : 0
        error = result.failure?.rawValue
    }
}
