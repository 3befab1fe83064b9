import Foundation
import Testing
@testable import PRSMWire

struct GenesisJSONTests {
    @Test func jsonRoundTripKeepsTheNetworkID() throws {
        let genesis = try GenesisTests.custom()
        for original in [Devnet.genesis, genesis] {
            let decoded = try Genesis.fromJSON(original.jsonData())
            #expect(decoded == original)
            #expect(decoded.networkID == original.networkID)
        }
    }

    @Test func jsonUsesHexKeysAndSnakeCaseFields() throws {
        let object = try JSONSerialization.jsonObject(with: Devnet.genesis.jsonData()) as? [String: Any]
        #expect(object?["name"] as? String == "devnet")
        #expect((object?["time_ms"] as? NSNumber)?.uint64Value == 1_767_225_600_000)
        let accounts = object?["accounts"] as? [[String: Any]]
        #expect(accounts?.first?["public_key"] as? String == Devnet.genesis.accounts[0].publicKey.hex)
        let validators = object?["validators"] as? [[String: Any]]
        #expect(validators?.first?["node_key"] as? String == Devnet.genesis.validators[0].nodeKey.hex)
        #expect(accounts?.first?["node_key"] == nil)
    }

    @Test func theCheckpointIntervalIsAParameterWithADefault() throws {
        let custom = try GenesisTests.custom()
        let object = try JSONSerialization.jsonObject(with: custom.jsonData()) as? [String: Any]
        #expect(((object?["parameters"] as? [String: Any])?["checkpoint_interval"] as? NSNumber)?.uint64Value == 40)
        // A file written before the parameter existed gets the default, 1,000.
        let without = #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[{"public_key":"\#(Devnet.genesis.validators[0].publicKey.hex)","node_key":"\#(Devnet.genesis.validators[0].nodeKey.hex)","power":1}]}"#
        #expect(try Genesis.fromJSON(Data(without.utf8)).parameters.checkpointInterval == 1_000)
        // Two networks that differ only in it are different networks.
        var parameters = custom.parameters
        parameters.checkpointInterval = 41
        let other = try Genesis(name: custom.name, timeMs: custom.timeMs, parameters: parameters,
                                accounts: custom.accounts, validators: custom.validators)
        #expect(other.networkID != custom.networkID)
    }

    @Test(arguments: [
        "", "{", "[]", "{\"name\": \"devnet\"}",
        // valid shape, but a key that is not 32 bytes of hex
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[{"public_key":"abcd","power":1}]}"#,
        // a validator without power
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[{"public_key":"0000000000000000000000000000000000000000000000000000000000000001"}]}"#,
        // a validator without the key of the node that runs it
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[{"public_key":"0000000000000000000000000000000000000000000000000000000000000001","power":1}]}"#,
        // an account with a validator's node key, a validator with a balance
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[{"public_key":"0000000000000000000000000000000000000000000000000000000000000002","balance":1,"node_key":"0000000000000000000000000000000000000000000000000000000000000003"}],"validators":[{"public_key":"0000000000000000000000000000000000000000000000000000000000000001","node_key":"0000000000000000000000000000000000000000000000000000000000000001","power":1}]}"#,
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[{"public_key":"0000000000000000000000000000000000000000000000000000000000000001","node_key":"0000000000000000000000000000000000000000000000000000000000000001","power":1,"balance":5}]}"#,
        // no validators at all
        #"{"name":"n","time_ms":0,"parameters":{"block_interval_ms":1,"epoch_length":1,"max_block_bytes":1,"min_validator_stake":1},"accounts":[],"validators":[]}"#,
    ])
    func badJSONThrowsInvalidGenesis(text: String) {
        do {
            _ = try Genesis.fromJSON(Data(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.category == .invalidGenesis, "\(error)")
        }
    }
}
