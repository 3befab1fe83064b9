import PRSMNode

/// What the DHT workload measured: every finished operation, judged against the simulator's
/// global view (a FIND_NODE succeeds when it returned exactly the k closest live nodes).
public final class DHTStats: @unchecked Sendable {
    public struct Sample: Sendable {
        public let kind: DHTResult.Kind
        public let succeeded: Bool
        public let hops: Int
        public let requests: Int
        public let latencyMs: UInt64
    }

    public private(set) var samples: [Sample] = []
    /// Keys whose put was confirmed by at least one node, with their values.
    public internal(set) var stored: [(key: Digest32, value: [UInt8])] = []
    public internal(set) var putsStarted = 0
    /// Nodes that reported joining at least once.
    public internal(set) var joined = Set<Int>()
    /// How many times each node reported joining (a restarted node joins again).
    public internal(set) var joins: [Int: Int] = [:]
    /// DHT requests that went unanswered after their retries (each scored against the peer).
    public internal(set) var timeouts = 0

    func add(_ sample: Sample) { samples.append(sample) }

    public func samples(of kind: DHTResult.Kind) -> [Sample] { samples.filter { $0.kind == kind } }

    public var lookups: [Sample] { samples.filter { $0.kind != .put } }

    /// The run's DHT figures for summary.json (definitions as in docs/bench.md `dht`).
    public var summary: [String: Double] {
        let lookups = self.lookups
        let hops = lookups.map(\.hops).sorted()
        func rate(_ samples: [Sample]) -> Double {
            samples.isEmpty ? 0 : Double(samples.filter(\.succeeded).count) / Double(samples.count)
        }
        return [
            "dht_nodes_joined": Double(joined.count),
            "dht_request_timeouts": Double(timeouts),
            "dht_puts": Double(putsStarted), "dht_puts_confirmed": Double(stored.count),
            "dht_gets": Double(samples(of: .get).count), "dht_get_success_rate": rate(samples(of: .get)),
            "dht_find_nodes": Double(samples(of: .findNode).count),
            "dht_find_node_success_rate": rate(samples(of: .findNode)),
            "dht_hops_median": Double(hops.isEmpty ? 0 : hops[hops.count / 2]),
            "dht_hops_p90": Double(hops.isEmpty ? 0 : hops[min(hops.count - 1, hops.count * 90 / 100)]),
            "dht_hops_max": Double(hops.last ?? 0),
            "dht_rpcs_per_lookup": lookups.isEmpty ? 0 : Double(lookups.map(\.requests).reduce(0, +)) / Double(lookups.count),
        ]
    }
}
