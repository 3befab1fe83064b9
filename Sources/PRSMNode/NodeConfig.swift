import TOMLKit

/// config.toml of a data directory. Every limit is a setting with a default; unknown keys are
/// refused so a typo does not silently fall back to a default.
public struct NodeConfig: Sendable, Equatable {
    public var listen = "0.0.0.0:7700"
    public var apiListen = "127.0.0.1:7701"
    public var roles: [String] = ["client"]
    public var sourceRatePerSecond: UInt64 = 500
    public var sourceBurst: UInt64 = 1_000
    public var prefixRatePerSecond: UInt64 = 2_000
    public var prefixBurst: UInt64 = 4_000
    public var maxTrackedSources = 4_096
    public var maxPeers = 1_024
    public var maxSavedPeers = 64
    public var replayToleranceMs: UInt64 = 30_000
    public var maxReplaySenders = 16_384
    public var logLevel = "info"
    /// Addresses (host:port) the DHT joins through; the saved address book is used as well.
    public var bootstrap: [String] = []
    public var dhtK = 20
    public var maxRecords = 20_000
    public var maxRecordBytes = 16 << 20
    public var maxRecordsPerPeer = 256
    /// Runs the consensus engine (the `[consensus]` section is present).
    public var consensusEnabled = false
    /// Votes with the consensus key in validator.key; genesis must run that validator on this node.
    public var consensusValidator = false
    /// Where each validator's node listens: "<node key hex>@<host:port>".
    public var consensusPeers: [String] = []
    public var baseViewTimeoutMs: UInt64 = 1_000
    public var maxViewTimeoutMs: UInt64 = 30_000
    /// The chain kept on disk (`BlockRetention`).
    public var retention = BlockRetention()
    /// Whether this node starts from a peer's snapshot when far behind (the checkpoint interval
    /// is the genesis's).
    public var stateSync = true

    public init() {}

    public static let template = """
        # PRSM node configuration. Every value shown is the default; delete a line to use it.

        [network]
        # UDP (datagrams) and TCP (streams) listen address. Use [::]:7700 for IPv6.
        listen = "0.0.0.0:7700"
        # What this node offers: "validator", "provider", "client".
        roles = ["client"]

        [api]
        # Local HTTP API (status, metrics). Keep it on a loopback address.
        listen = "127.0.0.1:7701"

        [limits]
        # Datagrams per second (and burst) accepted from one IP address before signature checks.
        source_rate_per_second = 500
        source_burst = 1000
        # The same, shared by all addresses of one IPv4 /24 or IPv6 /48.
        prefix_rate_per_second = 2000
        prefix_burst = 4000
        # Most source addresses tracked by the rate limiter.
        max_tracked_sources = 4096
        # Most peers remembered in the peer table.
        max_peers = 1024
        # Most peers the address book saves for the next start (the most recently seen).
        max_saved_peers = 64
        # Envelopes whose timestamp is further than this from our clock are dropped (clock-skew).
        replay_tolerance_ms = 30000
        # Most sender keys whose replay windows are kept.
        max_replay_senders = 16384

        [dht]
        # Peers to join the network through, e.g. ["203.0.113.7:7700"]. A node that ran before
        # also rejoins through the peers in its saved address book.
        bootstrap = []
        # Kademlia bucket size and replication factor.
        k = 20
        # Records this node stores for others: total count, total bytes, and count per publisher.
        max_records = 20000
        max_record_bytes = 16777216
        max_records_per_peer = 256

        [log]
        # trace, debug, info, notice, warning, error, critical
        level = "info"

        # Uncomment to run the consensus engine (validators, and observers that follow the chain).
        # [consensus]
        # Vote with the consensus key in validator.key; genesis must name this node as its node.
        # validator = false
        # Every validator's node: "<node key hex>@<host:port>" (UDP for votes, TCP for blocks).
        # peers = []
        # First view timeout, doubling per consecutive timeout up to the maximum.
        # base_view_timeout_ms = 1000
        # max_view_timeout_ms = 30000
        # Disk: a state snapshot every snapshot_interval blocks; the newest keep_blocks blocks
        # are kept for peers that sync, older ones pruned; over max_block_store_mb of blocks the
        # node snapshots at once and prunes down to the snapshot.
        # keep_blocks = 100000
        # snapshot_interval = 1000
        # max_block_store_mb = 1024
        # Validators sign a checkpoint of the state every checkpoint_interval heights, a network
        # parameter set in genesis.json. With state_sync, a node more than that far behind (or
        # stuck because peers pruned the blocks it needs) starts from the newest certified
        # snapshot a validator offers, after checking its certificates.
        # state_sync = true

        """

    struct FileForm: Decodable {
        struct Network: Decodable { var listen: String?; var roles: [String]? }
        struct API: Decodable { var listen: String? }
        // Signed on purpose: TOMLKit traps (crashes) decoding a negative number as UInt64.
        struct Limits: Decodable {
            var source_rate_per_second: Int?
            var source_burst: Int?
            var prefix_rate_per_second: Int?
            var prefix_burst: Int?
            var max_tracked_sources: Int?
            var max_peers: Int?
            var max_saved_peers: Int?
            var replay_tolerance_ms: Int?
            var max_replay_senders: Int?
        }
        struct Log: Decodable { var level: String? }
        struct Consensus: Decodable {
            var validator: Bool?
            var peers: [String]?
            var base_view_timeout_ms: Int?
            var max_view_timeout_ms: Int?
            var keep_blocks: Int?
            var snapshot_interval: Int?
            var max_block_store_mb: Int?
            var checkpoint_interval: Int?
            var state_sync: Bool?
        }
        var consensus: Consensus?
        struct DHT: Decodable {
            var bootstrap: [String]?
            var k: Int?
            var max_records: Int?
            var max_record_bytes: Int?
            var max_records_per_peer: Int?
        }
        var dht: DHT?
        var network: Network?
        var api: API?
        var limits: Limits?
        var log: Log?
    }

    static let knownKeys: [String: Set<String>] = [
        "network": ["listen", "roles"], "api": ["listen"],
        "limits": ["source_rate_per_second", "source_burst", "prefix_rate_per_second", "prefix_burst",
                   "max_tracked_sources", "max_peers", "max_saved_peers",
                   "replay_tolerance_ms", "max_replay_senders"],
        "log": ["level"],
        "dht": ["bootstrap", "k", "max_records", "max_record_bytes", "max_records_per_peer"],
        "consensus": ["validator", "peers", "base_view_timeout_ms", "max_view_timeout_ms",
                      "keep_blocks", "snapshot_interval", "max_block_store_mb", "checkpoint_interval", "state_sync"],
    ]

    public static func parse(_ text: String, path: String) throws(NodeError) -> NodeConfig {
        let table: TOMLTable
        let form: FileForm
        do {
            table = try TOMLTable(string: text)
            form = try TOMLDecoder().decode(FileForm.self, from: table)
        } catch {
            throw .badConfig(path, "\(error)")
        }
        for section in table.keys.sorted() {
            guard let known = knownKeys[section] else { throw .badConfig(path, "unknown section [\(section)]") }
            for key in (table[section]?.table?.keys ?? []).sorted() where !known.contains(key) {
                throw .badConfig(path, "unknown key \(section).\(key)")
            }
        }
        func unsigned(_ value: Int?, _ key: String, or fallback: UInt64, section: String = "limits") throws(NodeError) -> UInt64 {
            guard let value else { return fallback }
            guard value > 0 else { throw .badConfig(path, "\(section).\(key) must be > 0") }
            return UInt64(value)
        }
        var config = NodeConfig()
        config.listen = form.network?.listen ?? config.listen
        config.roles = form.network?.roles ?? config.roles
        config.apiListen = form.api?.listen ?? config.apiListen
        config.sourceRatePerSecond = try unsigned(form.limits?.source_rate_per_second, "source_rate_per_second",
                                                  or: config.sourceRatePerSecond)
        config.sourceBurst = try unsigned(form.limits?.source_burst, "source_burst", or: config.sourceBurst)
        config.prefixRatePerSecond = try unsigned(form.limits?.prefix_rate_per_second, "prefix_rate_per_second",
                                                  or: config.prefixRatePerSecond)
        config.prefixBurst = try unsigned(form.limits?.prefix_burst, "prefix_burst", or: config.prefixBurst)
        config.maxTrackedSources = form.limits?.max_tracked_sources ?? config.maxTrackedSources
        config.maxPeers = form.limits?.max_peers ?? config.maxPeers
        config.maxSavedPeers = form.limits?.max_saved_peers ?? config.maxSavedPeers
        config.replayToleranceMs = try unsigned(form.limits?.replay_tolerance_ms, "replay_tolerance_ms",
                                                or: config.replayToleranceMs)
        config.maxReplaySenders = form.limits?.max_replay_senders ?? config.maxReplaySenders
        config.logLevel = form.log?.level ?? config.logLevel
        config.bootstrap = form.dht?.bootstrap ?? config.bootstrap
        config.dhtK = form.dht?.k ?? config.dhtK
        config.maxRecords = form.dht?.max_records ?? config.maxRecords
        config.maxRecordBytes = form.dht?.max_record_bytes ?? config.maxRecordBytes
        config.maxRecordsPerPeer = form.dht?.max_records_per_peer ?? config.maxRecordsPerPeer
        if let consensus = form.consensus {
            config.consensusEnabled = true
            config.consensusValidator = consensus.validator ?? false
            config.consensusPeers = consensus.peers ?? []
            config.baseViewTimeoutMs = try unsigned(consensus.base_view_timeout_ms, "base_view_timeout_ms",
                                                    or: config.baseViewTimeoutMs, section: "consensus")
            config.maxViewTimeoutMs = try unsigned(consensus.max_view_timeout_ms, "max_view_timeout_ms",
                                                   or: config.maxViewTimeoutMs, section: "consensus")
            config.retention.keepBlocks = try unsigned(consensus.keep_blocks, "keep_blocks",
                                                       or: config.retention.keepBlocks, section: "consensus")
            config.retention.snapshotInterval = try unsigned(consensus.snapshot_interval, "snapshot_interval",
                                                             or: config.retention.snapshotInterval, section: "consensus")
            let megabytes = try unsigned(consensus.max_block_store_mb, "max_block_store_mb",
                                         or: config.retention.maxStoredBytes >> 20, section: "consensus")
            guard megabytes <= 1 << 24 else { throw .badConfig(path, "consensus.max_block_store_mb must be ≤ 16777216 (16 TiB)") }
            config.retention.maxStoredBytes = megabytes << 20
            if consensus.checkpoint_interval != nil {
                throw .badConfig(path, "consensus.checkpoint_interval is a network parameter now: it is set in genesis.json (parameters.checkpoint_interval), the same for every node")
            }
            config.stateSync = consensus.state_sync ?? config.stateSync
        }
        try config.validate(path: path)
        return config
    }

    func validate(path: String) throws(NodeError) {
        for (name, address) in [("network.listen", listen), ("api.listen", apiListen)] {
            do { _ = try PeerAddress(parsing: address) } catch { throw .badConfig(path, "\(name): \(error)") }
        }
        do { _ = try Roles(names: roles) } catch { throw .badConfig(path, "network.roles: \(error)") }
        // A zero replay tolerance would refuse every envelope not stamped in this very millisecond.
        let limits = [
            ("source_rate_per_second", sourceRatePerSecond > 0), ("source_burst", sourceBurst > 0),
            ("prefix_rate_per_second", prefixRatePerSecond > 0), ("prefix_burst", prefixBurst > 0),
            ("max_tracked_sources", maxTrackedSources > 0), ("max_peers", maxPeers > 0),
            ("max_saved_peers", maxSavedPeers > 0),
            ("replay_tolerance_ms", replayToleranceMs > 0), ("max_replay_senders", maxReplaySenders > 0),
        ]
        for (key, valid) in limits where !valid { throw .badConfig(path, "limits.\(key) must be > 0") }
        for address in bootstrap {
            do { _ = try PeerAddress(parsing: address) } catch { throw .badConfig(path, "dht.bootstrap: \(error)") }
        }
        guard (1...DHTLimits.maxContacts).contains(dhtK) else {
            throw .badConfig(path, "dht.k must be between 1 and \(DHTLimits.maxContacts)")
        }
        let records = [("max_records", maxRecords), ("max_record_bytes", maxRecordBytes),
                       ("max_records_per_peer", maxRecordsPerPeer)]
        for (key, value) in records where value <= 0 { throw .badConfig(path, "dht.\(key) must be > 0") }
        for peer in consensusPeers {
            do { _ = try Self.parseConsensusPeer(peer) } catch { throw .badConfig(path, "consensus.peers: \(error)") }
        }
        guard baseViewTimeoutMs >= 10, maxViewTimeoutMs >= baseViewTimeoutMs else {
            throw .badConfig(path, "consensus.base_view_timeout_ms must be ≥ 10 and ≤ max_view_timeout_ms")
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else { throw .badConfig(path, "log.level must be one of \(levels)") }
    }

    /// The DHT settings this configuration implies.
    public var dhtConfig: DHTCore.Config {
        var dht = DHTCore.Config()
        dht.routing.k = dhtK
        dht.lookup.k = dhtK
        dht.records.maxRecords = maxRecords
        dht.records.maxBytes = maxRecordBytes
        dht.records.maxRecordsPerPeer = maxRecordsPerPeer
        return dht
    }

    /// Bootstrap addresses, parsed (validated when the file was read).
    public var bootstrapAddresses: [PeerAddress] { bootstrap.compactMap { try? PeerAddress(parsing: $0) } }

    /// "<node key hex>@<host:port>" → the identity of a validator's node and its address.
    public static func parseConsensusPeer(_ text: String) throws(NodeError) -> (PublicKey, PeerAddress) {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let bytes = try? Hex.decode(parts[0]), let key = try? PublicKey(bytes) else {
            throw .badConfig("consensus.peers", "'\(text)' is not <64 hex digits of a node's public key>@<host:port>")
        }
        do { return (key, try PeerAddress(parsing: parts[1])) } catch {
            throw .badConfig("consensus.peers", "'\(text)': \(error)")
        }
    }

    /// The consensus engine settings for `genesis`, or nil without a `[consensus]` section.
    /// A node that is to vote needs `validatorKey` (its validator.key). A node with no chain yet
    /// is checked against genesis, which must name that validator with this node's identity as
    /// its node. With a stored chain (`storedChain`) the current validator set decides instead,
    /// since later epochs may have added or moved the validator: the replica checks it once the
    /// chain is restored, and the node warns and only follows when that set does not run the key
    /// on this node.
    public func consensusOptions(identity: SigningKey, validatorKey: SigningKey?, genesis: Genesis,
                                 storedChain: Bool = false) throws(NodeError) -> ConsensusOptions? {
        guard consensusEnabled else { return nil }
        if consensusValidator {
            guard let validatorKey else {
                throw .badConfig("consensus.validator", "a validator needs its consensus key in validator.key "
                                 + "(`prsm-node init --validator` creates one with the data directory)")
            }
            if !storedChain {
                guard let entry = genesis.validators.first(where: { $0.publicKey == validatorKey.publicKey }) else {
                    throw .badConfig("consensus.validator",
                                     "validator key \(validatorKey.publicKey.hex.prefix(16))… is not a validator of \(genesis.name)")
                }
                guard entry.nodeKey == identity.publicKey else {
                    throw .badConfig("consensus.validator", "\(genesis.name) runs validator \(validatorKey.publicKey.hex.prefix(16))… "
                                     + "on node \(entry.nodeKey.hex.prefix(16))…, not on this node \(identity.publicKey.hex.prefix(16))…")
                }
            }
        }
        var book: [PublicKey: [PeerAddress]] = [:]
        for peer in consensusPeers {
            let (key, address) = try Self.parseConsensusPeer(peer)
            book[key, default: []].append(address)
        }
        var options = ConsensusOptions(validatorKey: consensusValidator ? validatorKey : nil, directory: book)
        options.replica.core.baseViewTimeoutMs = baseViewTimeoutMs
        options.replica.core.maxViewTimeoutMs = maxViewTimeoutMs
        options.retention = retention
        // Memory never holds more of the chain than the disk keeps: a peer asking for pruned
        // blocks is told so (and fetches a snapshot) rather than served from memory.
        options.replica.core.retainedBlocks = Int(min(UInt64(options.replica.core.retainedBlocks),
                                                      max(retention.keepBlocks, ConsensusOptions.minRetainedBlocks)))
        options.stateSync = stateSync
        return options
    }

    /// The admission settings this configuration implies for a network.
    public func pipelineConfig(networkID: Digest32) -> ReceivePipeline.Config {
        var pipeline = ReceivePipeline.Config(networkID: networkID)
        pipeline.sourceLimit = .init(perSecond: sourceRatePerSecond, burst: sourceBurst, maxEntries: maxTrackedSources)
        pipeline.prefixLimit = .init(perSecond: prefixRatePerSecond, burst: prefixBurst, maxEntries: maxTrackedSources)
        pipeline.replay.toleranceMs = replayToleranceMs
        pipeline.replay.maxSenders = maxReplaySenders
        return pipeline
    }
}
