import PRSMNode
import Testing

/// The `[consensus]` section: validators' nodes named by node key and address, and this node's
/// validator key checked against genesis.
@Suite("Consensus configuration")
struct ConsensusConfigTests {
    static func peers(_ indices: Range<Int> = 0..<Devnet.validatorCount) -> String {
        indices.map { "\"\(Devnet.nodeKey($0).publicKey.hex)@\(Devnet.validatorAddress($0))\"" }
            .joined(separator: ", ")
    }

    static let validatorSection = "[consensus]\nvalidator = true\npeers = [\(peers())]"

    @Test func devnetValidatorGetsItsKeyAndEveryPeerInGenesisOrder() throws {
        let config = try NodeConfig.parse("""
            [consensus]
            validator = true
            peers = [\(Self.peers())]
            base_view_timeout_ms = 700
            max_view_timeout_ms = 9000
            """, path: "config.toml")
        let options = try #require(try config.consensusOptions(identity: Devnet.nodeKey(2), validatorKey: Devnet.validatorKey(2),
                                                                genesis: Devnet.genesis))
        #expect(options.validatorKey?.publicKey == Devnet.validatorKey(2).publicKey)
        #expect(options.replica.core.baseViewTimeoutMs == 700 && options.replica.core.maxViewTimeoutMs == 9000)
        // Each validator's node key leads to its own address, whatever the file's order.
        for validator in Devnet.genesis.validators {
            let devnetIndex = try #require((0..<4).first { Devnet.nodeKey($0).publicKey == validator.nodeKey })
            #expect(options.directory[validator.nodeKey]?.map(\.description) == [Devnet.validatorAddress(devnetIndex)])
        }
    }

    /// With a stored chain, later epochs may have added or moved the validator: the restored
    /// chain's current set decides (the replica follows and the node warns if it does not run the
    /// key here), so start-up does not refuse on genesis alone. Without a chain it still does.
    @Test func withAStoredChainTheCurrentSetNotGenesisDecidesWhoValidates() throws {
        let config = try NodeConfig.parse(Self.validatorSection, path: "c.toml")
        let newcomer = SigningKey.generate()
        #expect(throws: NodeError.self) {
            _ = try config.consensusOptions(identity: Devnet.nodeKey(2), validatorKey: newcomer, genesis: Devnet.genesis)
        }
        let added = try #require(try config.consensusOptions(identity: Devnet.nodeKey(2), validatorKey: newcomer,
                                                             genesis: Devnet.genesis, storedChain: true))
        #expect(added.validatorKey?.publicKey == newcomer.publicKey)
        let moved = try #require(try config.consensusOptions(identity: Devnet.nodeKey(2), validatorKey: Devnet.validatorKey(1),
                                                             genesis: Devnet.genesis, storedChain: true))
        #expect(moved.validatorKey?.publicKey == Devnet.validatorKey(1).publicKey)
        // The key itself is still required.
        #expect {
            _ = try config.consensusOptions(identity: Devnet.nodeKey(1), validatorKey: nil, genesis: Devnet.genesis, storedChain: true)
        } throws: { "\($0)".contains("validator.key") }
    }

    @Test func aValidatorNeedsItsOwnConsensusKeyRunOnTheNodeGenesisNames() throws {
        let config = try NodeConfig.parse(Self.validatorSection, path: "c.toml")
        // No validator.key: the node cannot vote, and says where the key belongs.
        #expect {
            _ = try config.consensusOptions(identity: Devnet.nodeKey(1), validatorKey: nil, genesis: Devnet.genesis)
        } throws: { "\($0)".contains("validator.key") }
        // Validator 1's key on node 2: genesis runs it on node 1, so node 2 must not vote with it
        // (its envelopes would not speak for validator 1, and two nodes could sign as one).
        #expect {
            _ = try config.consensusOptions(identity: Devnet.nodeKey(2), validatorKey: Devnet.validatorKey(1), genesis: Devnet.genesis)
        } throws: { "\($0)".contains("not on this node") }
        // A node key is no consensus key: node 1's identity cannot stand in for validator 1's key.
        #expect {
            _ = try config.consensusOptions(identity: Devnet.nodeKey(1), validatorKey: Devnet.nodeKey(1), genesis: Devnet.genesis)
        } throws: { "\($0)".contains("is not a validator") }
    }

    @Test func stateSyncIsASettingTheCheckpointIntervalIsNot() throws {
        let defaults = try #require(try NodeConfig.parse("[consensus]", path: "c.toml")
            .consensusOptions(identity: .generate(), validatorKey: nil, genesis: Devnet.genesis))
        #expect(defaults.stateSync)
        let options = try #require(try NodeConfig.parse("[consensus]\nstate_sync = false", path: "c.toml")
            .consensusOptions(identity: .generate(), validatorKey: nil, genesis: Devnet.genesis))
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
        #expect(try config.consensusOptions(identity: Devnet.nodeKey(0), validatorKey: Devnet.validatorKey(0),
                                            genesis: Devnet.genesis) == nil)
    }

    @Test func aNodeWhoseKeyIsNotAValidatorCannotVote() throws {
        let config = try NodeConfig.parse(Self.validatorSection, path: "c.toml")
        #expect(throws: NodeError.self) {
            try config.consensusOptions(identity: .generate(), validatorKey: .generate(), genesis: Devnet.genesis)
        }
        // As an observer the same keys are fine, and a validator key it holds is not used.
        let observer = try NodeConfig.parse("[consensus]\npeers = [\(Self.peers())]", path: "c.toml")
        let options = try observer.consensusOptions(identity: .generate(), validatorKey: .generate(), genesis: Devnet.genesis)
        #expect(options != nil && options?.validatorKey == nil)
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
