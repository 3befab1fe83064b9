import Foundation
import PRSMNode

/// Reads topologies/*.json. Refuses anything it does not understand, naming the JSON path of
/// the first problem.
public enum TopologyLoader {
    public static func load(path: String) throws(TopologyError) -> Topology {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TopologyError(path: "$", message: "cannot read \(path)")
        }
        return try parse(data)
    }

    public static func parse(_ data: Data) throws(TopologyError) -> Topology {
        let root = try JSONCursor.parse(data)
        let fields = try root.object(allowing: [
            "name", "genesis", "nodes", "link", "workload", "gst_ms", "duration_ms", "faults", "checks", "description", "store",
        ])
        var topology = Topology(name: try fields.required("name", in: root).string(), nodes: [])
        if let genesis = fields["genesis"] {
            let g = try genesis.object(allowing: ["name"])
            if let name = g["name"] { topology.genesisName = try name.string() }
        }
        topology.nodes = try parseNodes(try fields.required("nodes", in: root))
        var seen = Set<String>()
        for (index, node) in topology.nodes.enumerated() where !seen.insert(node.name).inserted {
            throw TopologyError(path: "$.nodes", message: "node name '\(node.name)' is used twice (node \(index))")
        }
        let validators = Topology.uniqueKeys(topology.nodes.filter { $0.roles.contains(.validator) }).count
        guard validators <= ConsensusLimits.maxValidators else {
            throw TopologyError(path: "$.nodes", message:
                "\(validators) nodes have the validator role; one validator set holds at most \(ConsensusLimits.maxValidators)")
        }
        if let link = fields["link"] { topology.link = try parseLink(link) }
        if let workload = fields["workload"] {
            let w = try workload.object(allowing: ["ping_interval_ms", "dht", "consensus"])
            // 0 turns the ping workload off.
            if let interval = w["ping_interval_ms"] { topology.pingIntervalMs = try interval.uint(max: 86_400_000) }
            if let dht = w["dht"] { topology.dht = try parseDHT(dht, topology) }
            if let consensus = w["consensus"] { topology.consensus = try parseConsensus(consensus, topology) }
        }
        if let store = fields["store"] {
            let f = try store.object(allowing: ["sync_fail_per_million"])
            if let fail = f["sync_fail_per_million"] { topology.storeSyncFailPerMillion = UInt32(try fail.uint(max: 1_000_000)) }
        }
        if let gst = fields["gst_ms"] { topology.gstMs = try gst.uint() }
        if let duration = fields["duration_ms"] { topology.durationMs = try duration.uint(max: 365 * 86_400_000) }
        if let checks = fields["checks"] {
            let c = try checks.object(allowing: ["ping_bound_ms", "max_peers", "dht_min_contacts",
                                                 "dht_max_stores_per_put", "dht_join_grace_ms", "ping_all_pairs",
                                                 "consensus_liveness_ms"])
            if let value = c["consensus_liveness_ms"] {
                guard topology.consensus != nil else { throw value.fail("needs a consensus workload") }
                topology.consensus?.livenessBoundMs = try value.uint(max: 3_600_000)
            }
            if let value = c["ping_all_pairs"] { topology.pingAllPairs = try value.bool() }
            if let value = c["dht_min_contacts"] { topology.dhtChecks.minContacts = Int(try value.uint(max: 1_000)) }
            if let value = c["dht_max_stores_per_put"] {
                topology.dhtChecks.maxStoresPerPut = Int(try value.uint(max: 1_000_000))
            }
            if let value = c["dht_join_grace_ms"] { topology.dhtChecks.joinGraceMs = try value.uint(max: 86_400_000) }
            if let bound = c["ping_bound_ms"] {
                topology.pingBoundMs = try bound.uint(max: 3_600_000)
                guard topology.pingBoundMs >= 10 else { throw bound.fail("must be at least 10 ms") }
            }
            if let peers = c["max_peers"] {
                topology.maxPeers = Int(try peers.uint(max: 1_000_000))
                guard topology.maxPeers >= 1 else { throw peers.fail("must be at least 1") }
            }
        }
        if let faults = fields["faults"] {
            topology.faults = try faults.array().map { (f: JSONCursor) throws(TopologyError) in try parseFault(f, topology) }
            for (a, b) in zip(topology.faults, topology.faults.dropFirst()) where b.atMs < a.atMs {
                throw TopologyError(path: "$.faults", message: "faults must be listed in time order")
            }
        }
        let lastCheck = topology.settledAtMs + topology.pingBoundMs + 1_000
        guard lastCheck < topology.durationMs else {
            throw TopologyError(path: "$.duration_ms", message:
                "must exceed the last fault/GST + ping_bound_ms + 1000 (\(lastCheck)) so liveness can be checked")
        }
        if let consensus = topology.consensus {
            let lastCommitCheck = topology.settledAtMs + consensus.livenessBoundMs
            guard lastCommitCheck < topology.durationMs else {
                throw TopologyError(path: "$.duration_ms", message:
                    "must exceed the last fault/GST + consensus_liveness_ms (\(lastCommitCheck)) so consensus liveness can be checked")
            }
        }
        return topology
    }

    static func parseNodes(_ cursor: JSONCursor) throws(TopologyError) -> [NodeSpec] {
        var nodes: [NodeSpec] = []
        for entry in try cursor.array() {
            let f = try entry.object(allowing: ["name", "count", "roles", "stake", "behaviour", "key_seed", "nat"])
            let nat = try f["nat"]?.bool() ?? false
            let name = try f.required("name", in: entry).string()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw f["name"]!.fail("names use letters, digits, '-' and '_'")
            }
            var roles: Roles = [.client]
            if let list = f["roles"] {
                roles = []
                for role in try list.array() {
                    do { roles.formUnion(try Roles(names: [try role.string()])) } catch {
                        throw role.fail("unknown role (validator, provider, client)")
                    }
                }
            }
            let stake = try f["stake"]?.uint() ?? 0
            var behaviour: Behaviour?
            if let b = f["behaviour"] {
                let text = try b.string()
                guard let parsed = Behaviour(rawValue: text) else {
                    throw b.fail("unknown behaviour '\(text)' (\(Behaviour.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                behaviour = parsed
            }
            let count = Int(try f["count"]?.uint(max: 100_000) ?? 1)
            guard count >= 1 else { throw f["count"]!.fail("must be ≥ 1") }
            let seed = try f["key_seed"]?.string() ?? name
            if f["count"] == nil {
                nodes.append(NodeSpec(name: name, roles: roles, stake: stake, behaviour: behaviour, keySeed: seed, nat: nat))
            } else {
                for i in 1...count {
                    nodes.append(NodeSpec(name: "\(name)\(i)", roles: roles, stake: stake, behaviour: behaviour,
                                          keySeed: "\(seed)\(i)", nat: nat))
                }
            }
        }
        guard !nodes.isEmpty else { throw cursor.fail("at least one node is required") }
        return nodes
    }

    static func parseDHT(_ cursor: JSONCursor, _ topology: Topology) throws(TopologyError) -> DHTWorkload {
        let f = try cursor.object(allowing: ["bootstrap", "k", "start_spread_ms", "ops_start_ms", "op_interval_ms",
                                             "puts", "gets_per_put", "find_nodes", "republish_interval_ms",
                                             "nat_mapping_ms", "reachability_check_delay_ms"])
        var bootstrap: [Int] = []
        for entry in try f.required("bootstrap", in: cursor).array() {
            let name = try entry.string()
            guard let index = topology.index(of: name) else { throw entry.fail("no node named '\(name)'") }
            bootstrap.append(index)
        }
        guard !bootstrap.isEmpty else { throw f["bootstrap"]!.fail("name at least one bootstrap node") }
        var dht = DHTWorkload(bootstrap: bootstrap)
        if let k = f["k"] {
            dht.k = Int(try k.uint(max: 64))
            guard dht.k >= 1 else { throw k.fail("must be at least 1") }
        }
        dht.startSpreadMs = try f["start_spread_ms"]?.uint(max: 86_400_000) ?? 0
        dht.opsStartMs = try f["ops_start_ms"]?.uint(max: 86_400_000) ?? dht.opsStartMs
        if let interval = f["op_interval_ms"] {
            dht.opIntervalMs = try interval.uint(max: 3_600_000)
            guard dht.opIntervalMs >= 1 else { throw interval.fail("must be at least 1") }
        }
        dht.puts = Int(try f["puts"]?.uint(max: 1_000_000) ?? 0)
        dht.getsPerPut = Int(try f["gets_per_put"]?.uint(max: 1_000) ?? 0)
        dht.findNodes = Int(try f["find_nodes"]?.uint(max: 1_000_000) ?? 0)
        if let interval = f["republish_interval_ms"] {
            dht.republishIntervalMs = try interval.uint(max: 86_400_000 * 30)
            guard dht.republishIntervalMs >= 1_000 else { throw interval.fail("must be at least 1000") }
        }
        if let value = f["nat_mapping_ms"] {
            dht.natMappingMs = try value.uint(max: 3_600_000)
            guard dht.natMappingMs >= 1 else { throw value.fail("must be at least 1") }
        }
        dht.reachabilityCheckDelayMs = try f["reachability_check_delay_ms"]?.uint(max: 86_400_000) ?? dht.reachabilityCheckDelayMs
        return dht
    }

    static func parseConsensus(_ cursor: JSONCursor, _ topology: Topology) throws(TopologyError) -> ConsensusWorkload {
        let f = try cursor.object(allowing: ["tx_rate", "clients", "payload_bytes", "tx_start_ms", "tx_end_ms",
                                             "base_view_timeout_ms", "max_view_timeout_ms", "max_block_transactions",
                                             "unsafe_one_chain_commit", "vote_broadcast_limit", "checkpoint_interval", "reconfigure"])
        var consensus = ConsensusWorkload()
        consensus.txRate = try f["tx_rate"]?.uint(max: 1_000_000) ?? consensus.txRate
        if let clients = f["clients"] {
            consensus.clients = Int(try clients.uint(max: 100_000))
            guard consensus.clients >= 1 else { throw clients.fail("must be at least 1") }
        }
        consensus.payloadBytes = Int(try f["payload_bytes"]?.uint(max: 4_000) ?? UInt64(consensus.payloadBytes))
        consensus.txStartMs = try f["tx_start_ms"]?.uint(max: 86_400_000) ?? consensus.txStartMs
        consensus.txEndMs = try f["tx_end_ms"]?.uint(max: 86_400_000)
        if let base = f["base_view_timeout_ms"] {
            consensus.baseViewTimeoutMs = try base.uint(max: 600_000)
            guard consensus.baseViewTimeoutMs >= 10 else { throw base.fail("must be at least 10") }
        }
        consensus.maxViewTimeoutMs = try f["max_view_timeout_ms"]?.uint(max: 3_600_000) ?? consensus.maxViewTimeoutMs
        guard consensus.maxViewTimeoutMs >= consensus.baseViewTimeoutMs else {
            throw f["max_view_timeout_ms"]!.fail("must be ≥ base_view_timeout_ms")
        }
        if let max = f["max_block_transactions"] {
            consensus.maxBlockTransactions = Int(try max.uint(max: UInt64(ConsensusLimits.maxBlockTransactions)))
        }
        consensus.unsafeOneChainCommit = try f["unsafe_one_chain_commit"]?.bool() ?? false
        if let limit = f["vote_broadcast_limit"] {
            consensus.voteBroadcastLimit = Int(try limit.uint(max: UInt64(ConsensusLimits.maxValidators)))
        }
        if let interval = f["checkpoint_interval"] { consensus.checkpointInterval = try interval.uint(max: 1_000_000_000) }
        if let list = f["reconfigure"] {
            consensus.reconfigurations = try list.array().map { (entry: JSONCursor) throws(TopologyError) in
                try parseReconfiguration(entry, topology)
            }
            for (a, b) in zip(consensus.reconfigurations, consensus.reconfigurations.dropFirst()) where b.atMs <= a.atMs {
                throw list.fail("reconfigurations must be listed in time order")
            }
        }
        return consensus
    }

    static func parseReconfiguration(_ cursor: JSONCursor, _ topology: Topology) throws(TopologyError)
        -> ConsensusWorkload.Reconfiguration {
        let f = try cursor.object(allowing: ["at_ms", "validators"])
        let atMs = try f.required("at_ms", in: cursor).uint(max: 86_400_000)
        let names = try f.required("validators", in: cursor)
        let validators = try names.array().map { (name: JSONCursor) throws(TopologyError) in try name.string() }
        // A payload holds 28 validators: 4,096 bytes, "@validators=" then at most 141 per entry
        // (consensus key, power up to 10 digits, node key, separators).
        guard !validators.isEmpty, validators.count <= 28 else { throw names.fail("must name 1–28 nodes") }
        guard Set(validators).count == validators.count else { throw names.fail("names a node twice") }
        for name in validators where topology.index(of: name) == nil {
            throw names.fail("no node is named '\(name)'")
        }
        return .init(atMs: atMs, validators: validators)
    }

    static func parseLink(_ cursor: JSONCursor) throws(TopologyError) -> LinkModel {
        let f = try cursor.object(allowing: ["latency", "jitter_ms", "loss_per_million", "duplicate_per_million",
                                             "bandwidth_kbps"])
        var link = LinkModel()
        if let latency = f["latency"] {
            let l = try latency.object(allowing: ["dist", "ms", "min_ms", "max_ms", "median_ms", "tail_per_million",
                                                  "max_factor"])
            switch try l.required("dist", in: latency).string() {
            case "fixed": link.latency = .fixed(ms: try l.required("ms", in: latency).uint(max: 600_000))
            case "uniform":
                let low = try l.required("min_ms", in: latency).uint(max: 600_000)
                let high = try l.required("max_ms", in: latency).uint(max: 600_000)
                guard low <= high else { throw l["max_ms"]!.fail("must be ≥ min_ms") }
                link.latency = .uniform(minMs: low, maxMs: high)
            case "long-tail":
                link.latency = .longTail(
                    medianMs: try l.required("median_ms", in: latency).uint(max: 600_000),
                    tailPerMillion: UInt32(try l["tail_per_million"]?.uint(max: 1_000_000) ?? 10_000),
                    maxFactor: max(2, try l["max_factor"]?.uint(max: 1_000) ?? 10))
            default: throw l["dist"]!.fail("unknown distribution (fixed, uniform, long-tail)")
            }
        }
        link.jitterMs = try f["jitter_ms"]?.uint(max: 600_000) ?? 0
        link.lossPerMillion = UInt32(try f["loss_per_million"]?.uint(max: 1_000_000) ?? 0)
        link.duplicatePerMillion = UInt32(try f["duplicate_per_million"]?.uint(max: 1_000_000) ?? 0)
        link.bandwidthKbps = try f["bandwidth_kbps"]?.uint(max: 100_000_000) ?? 0
        return link
    }

    static func parseFault(_ cursor: JSONCursor, _ topology: Topology) throws(TopologyError) -> Fault {
        let f = try cursor.object(allowing: ["at_ms", "type", "groups", "from", "to", "node", "per_million",
                                             "extra_ms", "until_ms", "skew_ms"])
        let at = try f.required("at_ms", in: cursor).uint()
        func node(_ c: JSONCursor) throws(TopologyError) -> Int {
            let name = try c.string()
            guard let index = topology.index(of: name) else { throw c.fail("no node named '\(name)'") }
            return index
        }
        func nodes(_ c: JSONCursor) throws(TopologyError) -> [Int] {
            try c.array().map { (n: JSONCursor) throws(TopologyError) in try node(n) }
        }
        func until() throws(TopologyError) -> UInt64 {
            let end = try f.required("until_ms", in: cursor).uint()
            guard end > at else { throw f["until_ms"]!.fail("must be after at_ms") }
            return end
        }
        let kind: Fault.Kind
        switch try f.required("type", in: cursor).string() {
        case "partition":
            if let groups = f["groups"] {
                kind = .partition(groups: try groups.array().map { (g: JSONCursor) throws(TopologyError) in try nodes(g) })
            } else {
                kind = .oneWay(from: try nodes(try f.required("from", in: cursor)), to: try nodes(try f.required("to", in: cursor)))
            }
        case "heal": kind = .heal
        case "crash": kind = .crash(node: try node(try f.required("node", in: cursor)))
        case "restart": kind = .restart(node: try node(try f.required("node", in: cursor)))
        case "drop": kind = .drop(perMillion: UInt32(try f.required("per_million", in: cursor).uint(max: 1_000_000)), untilMs: try until())
        case "delay": kind = .delay(extraMs: try f.required("extra_ms", in: cursor).uint(max: 600_000), untilMs: try until())
        case "duplicate":
            kind = .duplicate(perMillion: UInt32(try f.required("per_million", in: cursor).uint(max: 1_000_000)), untilMs: try until())
        case "clock-skew":
            let skew = try f.required("skew_ms", in: cursor)
            guard case let .int(value) = skew.value, value.magnitude <= 3_600_000 else {
                throw skew.fail("expected an integer number of milliseconds within ±3600000")
            }
            kind = .clockSkew(node: try node(try f.required("node", in: cursor)), skewMs: value)
        case let other:
            throw f["type"]!.fail("unknown fault '\(other)' (partition, heal, crash, restart, drop, delay, duplicate, clock-skew)")
        }
        return Fault(atMs: at, kind: kind)
    }
}
