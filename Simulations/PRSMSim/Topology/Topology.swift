import PRSMNode

/// A simulated network: its nodes, links, workload and fault timeline (DESIGN.md "Topologies";
/// schema in docs/topology.schema.json). The same file is meant to drive loopback processes.
public struct Topology: Sendable {
    public var name: String
    public var genesisName = "simnet"
    public var nodes: [NodeSpec]
    public var link = LinkModel()
    public var pingIntervalMs: UInt64 = 1_000
    public var gstMs: UInt64 = 0
    public var durationMs: UInt64 = 60_000
    public var faults: [Fault] = []
    /// A ping between live nodes after heal + GST must be answered within this bound.
    public var pingBoundMs: UInt64 = 5_000
    /// The peer-table bound every node must respect (checked).
    public var maxPeers = 1_024
    /// Chance that a simulated store's sync fails (a seeded storage fault).
    public var storeSyncFailPerMillion: UInt32 = 0
    /// Nodes join the DHT and run its operations only when the workload has a `dht` part.
    public var dht: DHTWorkload?
    public var dhtChecks = DHTChecks()
    /// Validators run the consensus engine only when the workload has a `consensus` part.
    public var consensus: ConsensusWorkload?
    /// The all-pairs ping round after the last fault (n² pings; large DHT topologies turn it off).
    public var pingAllPairs = true

    public func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// The genesis all simulated nodes share: validators are the nodes with the validator role
    /// (power = stake), or, when none has it, the first nodes up to one set's limit (a DHT-only
    /// topology of 10,000 nodes still needs a valid genesis). Nodes sharing a key (Twins) are one
    /// validator and one account. The loader refuses more validators than a set holds.
    public func genesis() -> Genesis {
        let validators = nodes.filter { $0.roles.contains(.validator) }
        let chosen = validators.isEmpty ? Array(Self.uniqueKeys(nodes).prefix(ConsensusLimits.maxValidators)) : validators
        var parameters = Genesis.Parameters()
        if let consensus { parameters.checkpointInterval = consensus.checkpointInterval }
        return try! Genesis(
            name: genesisName, timeMs: Devnet.timeMs, parameters: parameters,
            accounts: Self.uniqueKeys(nodes).map { .init(publicKey: $0.key.publicKey, balance: 1_000 * 100_000_000) },
            validators: Self.uniqueKeys(chosen).map(\.genesisValidator))
    }

    static func uniqueKeys(_ specs: [NodeSpec]) -> [NodeSpec] {
        var seen = Set<String>()
        return specs.filter { seen.insert($0.keySeed).inserted }
    }

    /// Deliberately faulty: a behaviour, or a key shared with another node (a Twin).
    public func isByzantine(_ index: Int) -> Bool {
        nodes[index].behaviour != nil || nodes.indices.contains { $0 != index && nodes[$0].keySeed == nodes[index].keySeed }
    }

    /// When the network is expected to behave again: after GST and after the last fault that
    /// changes connectivity or membership.
    public var settledAtMs: UInt64 {
        faults.map(\.atMs).reduce(gstMs, max)
    }

    /// The largest clock skew (in magnitude) any `clock-skew` fault gives a node; 0 without any.
    public var maxClockSkewMs: UInt64 {
        faults.reduce(0) {
            guard case let .clockSkew(_, skewMs) = $1.kind else { return $0 }
            return max($0, skewMs.magnitude)
        }
    }
}

public struct NodeSpec: Sendable {
    public var name: String
    public var roles: Roles
    public var stake: UInt64
    public var behaviour: Behaviour?
    public var keySeed: String
    /// Behind a NAT: reachable only by nodes it sent to recently (it should end in DHT client mode).
    public var nat = false

    /// The node's identity (its envelopes, its DHT id, its account).
    public var key: SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-sim-key:\(keySeed)".utf8)).bytes)
    }

    /// The consensus key of the validator this node runs (if it runs one): a key of its own,
    /// as on real nodes. Twins share it along with the identity.
    public var validatorKey: SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-sim-validator:\(keySeed)".utf8)).bytes)
    }

    /// This node as a validator: its consensus key run by its identity, power = stake.
    public var genesisValidator: Genesis.Validator {
        Genesis.Validator(publicKey: validatorKey.publicKey, nodeKey: key.publicKey, power: max(1, stake))
    }
}

/// Deliberately faulty nodes. Today's behaviours break one guarantee each, so every checker
/// can be shown to fail; Byzantine protocol behaviours arrive with consensus.
public enum Behaviour: String, Sendable, CaseIterable {
    /// Receives but never sends anything.
    case silent
    /// Accepts replays: its replay window is disabled.
    case skipReplayCheck = "skip-replay-check"
    /// Ignores the peer-table bound.
    case unboundedTables = "unbounded-tables"
    /// Forgets its saved state on restart (its store is wiped).
    case amnesiac
    /// Puts contacts it only heard about into its routing table (they never answered it).
    case dhtTrustHearsay = "dht-trust-hearsay"
    /// Re-sends every record it holds to every node that answers it (a store storm).
    case dhtStoreStorm = "dht-store-storm"
    /// Bans a peer at its first timeout (no floor under timeout penalties): a peer that was
    /// only offline is refused once it is back.
    case bansOnTimeout = "bans-on-timeout"
    // Byzantine validators (`ConsensusFault`).
    case equivocate
    case withholdVotes = "withhold-votes"
    case silentLeader = "silent-leader"
    case garbage
    case delayVotes = "delay-votes"
    case replayOld = "replay-old"
    case corruptSnapshot = "corrupt-snapshot"

    /// The consensus fault this behaviour injects, if it is one.
    public var consensusFault: ConsensusFault? { ConsensusFault(rawValue: rawValue) }
}

public struct LinkModel: Sendable, Equatable {
    public enum Latency: Sendable, Equatable {
        case fixed(ms: UInt64)
        case uniform(minMs: UInt64, maxMs: UInt64)
        /// Mostly near the median; with `tailPerMillion` chance, 2…`maxFactor` times longer.
        case longTail(medianMs: UInt64, tailPerMillion: UInt32, maxFactor: UInt64)
    }

    public var latency = Latency.fixed(ms: 10)
    public var jitterMs: UInt64 = 0
    public var lossPerMillion: UInt32 = 0
    public var duplicatePerMillion: UInt32 = 0
    /// 0 = unlimited.
    public var bandwidthKbps: UInt64 = 0
}

public struct Fault: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Traffic only flows within each group.
        case partition(groups: [[Int]])
        /// Traffic from `from` to `to` is lost; the other direction still works.
        case oneWay(from: [Int], to: [Int])
        case heal
        case crash(node: Int)
        case restart(node: Int)
        case drop(perMillion: UInt32, untilMs: UInt64)
        case delay(extraMs: UInt64, untilMs: UInt64)
        case duplicate(perMillion: UInt32, untilMs: UInt64)
        case clockSkew(node: Int, skewMs: Int64)
    }

    public var atMs: UInt64
    public var kind: Kind
}
