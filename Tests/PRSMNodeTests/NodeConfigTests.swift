import PRSMNode
import Testing

@Suite("NodeConfig parsing")
struct NodeConfigTests {
    @Test func templateParsesToTheDefaults() throws {
        #expect(try NodeConfig.parse(NodeConfig.template, path: "config.toml") == NodeConfig())
    }

    @Test func emptyFileMeansDefaults() throws {
        #expect(try NodeConfig.parse("", path: "config.toml") == NodeConfig())
    }

    @Test func everyOverrideIsApplied() throws {
        let config = try NodeConfig.parse("""
            [network]
            listen = "127.0.0.5:9000"
            roles = ["validator", "provider"]

            [api]
            listen = "[::1]:9001"

            [limits]
            source_rate_per_second = 11
            source_burst = 22
            max_tracked_sources = 33
            max_peers = 44
            max_saved_peers = 45
            replay_tolerance_ms = 5555
            max_replay_senders = 66

            [log]
            level = "debug"
            """, path: "config.toml")
        var expected = NodeConfig()
        expected.listen = "127.0.0.5:9000"
        expected.roles = ["validator", "provider"]
        expected.apiListen = "[::1]:9001"
        expected.sourceRatePerSecond = 11
        expected.sourceBurst = 22
        expected.maxTrackedSources = 33
        expected.maxPeers = 44
        expected.maxSavedPeers = 45
        expected.replayToleranceMs = 5555
        expected.maxReplaySenders = 66
        expected.logLevel = "debug"
        #expect(config == expected)
    }

    @Test func aPartialFileKeepsOtherDefaults() throws {
        let config = try NodeConfig.parse("[limits]\nmax_peers = 8\n", path: "config.toml")
        var expected = NodeConfig()
        expected.maxPeers = 8
        #expect(config == expected)
    }

    @Test func pipelineConfigCarriesTheLimits() throws {
        let config = try NodeConfig.parse("""
            [limits]
            source_rate_per_second = 7
            source_burst = 9
            max_tracked_sources = 100
            replay_tolerance_ms = 1234
            max_replay_senders = 200
            """, path: "config.toml")
        let networkID = Devnet.genesis.networkID
        let pipeline = config.pipelineConfig(networkID: networkID)
        #expect(pipeline.networkID == networkID)
        #expect(pipeline.sourceLimit.perSecond == 7)
        #expect(pipeline.sourceLimit.burst == 9)
        #expect(pipeline.sourceLimit.maxEntries == 100)
        #expect(pipeline.replay.toleranceMs == 1234)
        #expect(pipeline.replay.maxSenders == 200)
        #expect(pipeline.maxSize == Envelope.maxDatagramSize)
    }
}

@Suite("NodeConfig rejections")
struct NodeConfigRejectionTests {
    /// The reason `parse` gives for refusing `text`; records an issue if it is accepted or
    /// refused with anything but `.badConfig` for this path.
    func reason(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = nodeError(sourceLocation: sourceLocation) { try NodeConfig.parse(text, path: "/data/config.toml") }
        guard case let .badConfig(path, why)? = error else {
            if let error { Issue.record("expected .badConfig, got \(error)", sourceLocation: sourceLocation) }
            return ""
        }
        #expect(path == "/data/config.toml", sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("config /data/config.toml: ") == true, sourceLocation: sourceLocation)
        return why
    }

    @Test func unknownSection() {
        #expect(reason("[netwrok]\nlisten = \"0.0.0.0:7700\"\n").contains("unknown section [netwrok]"))
    }

    @Test func unknownTopLevelKey() {
        #expect(reason("listen = \"0.0.0.0:7700\"\n").contains("listen"))
    }

    @Test func unknownKey() {
        #expect(reason("[limits]\nmax_peer = 10\n").contains("unknown key limits.max_peer"))
        #expect(reason("[api]\nport = 7701\n").contains("unknown key api.port"))
    }

    @Test(arguments: ["localhost:7700", "0.0.0.0", "1.2.3.4:99999", "[::1]7700"])
    func badListenAddress(_ address: String) {
        let why = reason("[network]\nlisten = \"\(address)\"\n")
        #expect(why.contains("network.listen"))
        #expect(why.contains(address))
    }

    @Test func badAPIAddress() {
        #expect(reason("[api]\nlisten = \"localhost:7701\"\n").contains("api.listen"))
    }

    @Test func badRoles() {
        let why = reason("[network]\nroles = [\"client\", \"miner\"]\n")
        #expect(why.contains("network.roles"))
        #expect(why.contains("miner"))
    }

    @Test(arguments: ["source_rate_per_second", "source_burst", "max_tracked_sources", "max_peers",
                      "replay_tolerance_ms", "max_replay_senders"])
    func zeroLimit(_ key: String) {
        #expect(reason("[limits]\n\(key) = 0\n") == "limits.\(key) must be > 0")
    }

    /// A negative number once crashed the node inside the TOML decoder.
    @Test(arguments: ["source_rate_per_second", "source_burst", "max_tracked_sources", "max_peers",
                      "replay_tolerance_ms", "max_replay_senders"])
    func negativeLimit(_ key: String) {
        #expect(reason("[limits]\n\(key) = -1\n") == "limits.\(key) must be > 0")
    }

    @Test func badLogLevel() {
        let why = reason("[log]\nlevel = \"verbose\"\n")
        #expect(why.contains("log.level"))
        #expect(why.contains("warning"))
    }

    @Test func wrongValueType() {
        #expect(!reason("[limits]\nmax_peers = \"many\"\n").isEmpty)
        #expect(!reason("[network]\nroles = \"client\"\n").isEmpty)
    }

    @Test func invalidTOML() {
        #expect(!reason("[network\nlisten = \"0.0.0.0:7700\"\n").isEmpty)
        #expect(!reason("[log]\nlevel = \n").isEmpty)
    }
}
