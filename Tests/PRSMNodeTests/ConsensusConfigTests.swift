import PRSMNode
import Testing

/// The `[consensus]` section: validators named by key and address, checked against genesis.
@Suite("Consensus configuration")
struct ConsensusConfigTests {
    static func peers(_ indices: Range<Int> = 0..<Devnet.validatorCount) -> String {
        indices.map { "\"\(Devnet.validatorKey($0).publicKey.hex)@\(Devnet.validatorAddress($0))\"" }
            .joined(separator: ", ")
    }

    @Test func devnetValidatorGetsItsKeyAndEveryPeerInGenesisOrder() throws {
        let config = try NodeConfig.parse("""
            [consensus]
            validator = true
            peers = [\(Self.peers())]
            base_view_timeout_ms = 700
            max_view_timeout_ms = 9000
            """, path: "config.toml")
        let options = try #require(try config.consensusOptions(identity: Devnet.validatorKey(2), genesis: Devnet.genesis))
        #expect(options.validatorKey?.publicKey == Devnet.validatorKey(2).publicKey)
        #expect(options.replica.core.baseViewTimeoutMs == 700 && options.replica.core.maxViewTimeoutMs == 9000)
        // Each validator's key leads to its own address, whatever the file's order.
        for validator in Devnet.genesis.validators {
            let devnetIndex = try #require((0..<4).first { Devnet.validatorKey($0).publicKey == validator.publicKey })
            #expect(options.directory[validator.publicKey]?.map(\.description) == [Devnet.validatorAddress(devnetIndex)])
        }
    }

    @Test func stateSyncIsASettingTheCheckpointIntervalIsNot() throws {
        let defaults = try #require(try NodeConfig.parse("[consensus]", path: "c.toml")
            .consensusOptions(identity: .generate(), genesis: Devnet.genesis))
        #expect(defaults.stateSync)
        let options = try #require(try NodeConfig.parse("[consensus]\nstate_sync = false", path: "c.toml")
            .consensusOptions(identity: .generate(), genesis: Devnet.genesis))
        #expect(!options.stateSync)
        // Validators that disagreed on it would never certify a checkpoint: genesis.json sets it.
        #expect {
            _ = try NodeConfig.parse("[consensus]\ncheckpoint_interval = 250", path: "config.toml")
        } throws: { error in
            "\(error)".contains("genesis.json") && "\(error)".contains("checkpoint_interval")
        }
    }

    @Test func withoutTheSectionThereIsNoEngine() throws {
        let config = try NodeConfig.parse("", path: "config.toml")
        #expect(try config.consensusOptions(identity: Devnet.validatorKey(0), genesis: Devnet.genesis) == nil)
    }

    @Test func aNodeWhoseKeyIsNotAValidatorCannotVote() throws {
        let config = try NodeConfig.parse("[consensus]\nvalidator = true\npeers = [\(Self.peers())]", path: "c.toml")
        #expect(throws: NodeError.self) {
            try config.consensusOptions(identity: .generate(), genesis: Devnet.genesis)
        }
        // As an observer the same key is fine.
        let observer = try NodeConfig.parse("[consensus]\npeers = [\(Self.peers())]", path: "c.toml")
        let options = try observer.consensusOptions(identity: .generate(), genesis: Devnet.genesis)
        #expect(options?.validatorKey == nil)
    }

    @Test(arguments: [
        ("[consensus]\npeers = [\"nothex@127.0.0.1:7700\"]", "consensus.peers"),
        ("[consensus]\npeers = [\"\(String(repeating: "ab", count: 32))@nowhere\"]", "consensus.peers"),
        ("[consensus]\nbase_view_timeout_ms = 5000\nmax_view_timeout_ms = 1000", "base_view_timeout_ms"),
        ("[consensus]\nbase_view_timeout_ms = 0", "consensus.base_view_timeout_ms must be > 0"),
        ("[consensus]\nvalidators = true", "unknown key consensus.validators"),
        ("[consensus]\ncheckpoint_interval = -1", "consensus.checkpoint_interval"),
    ])
    func badConsensusSettingsAreRefusedWithTheirName(text: String, mention: String) {
        #expect {
            _ = try NodeConfig.parse(text, path: "config.toml")
        } throws: { error in
            "\(error)".contains(mention)
        }
    }
}
