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

    func add(_ sample: Sample) { samples.append(sample) }

    public func samples(of kind: DHTResult.Kind) -> [Sample] { samples.filter { $0.kind == kind } }

    public var lookups: [Sample] { samples.filter { $0.kind != .put } }
}
