import Foundation

/// The JSON form of a genesis (genesis.json in a data directory): keys in hex, amounts as
/// integers in base units. The network id is always computed from the canonical binary form.
extension Genesis {
    struct FileForm: Codable {
        var name: String
        var time_ms: UInt64
        var parameters: ParametersForm
        var accounts: [EntryForm]
        var validators: [EntryForm]
    }

    struct ParametersForm: Codable {
        var block_interval_ms: UInt32
        var epoch_length: UInt64
        var max_block_bytes: UInt32
        var min_validator_stake: UInt64
        /// Absent in a file: the default (1,000).
        var checkpoint_interval: UInt64?
    }

    struct EntryForm: Codable {
        var public_key: String
        var balance: UInt64?
        var power: UInt64?
        /// Validators only: the identity key of the node that runs the validator.
        var node_key: String?
    }

    public func jsonData() -> Data {
        let form = FileForm(
            name: name, time_ms: timeMs,
            parameters: ParametersForm(
                block_interval_ms: parameters.blockIntervalMs, epoch_length: parameters.epochLength,
                max_block_bytes: parameters.maxBlockBytes, min_validator_stake: parameters.minValidatorStake,
                checkpoint_interval: parameters.checkpointInterval),
            accounts: accounts.map { EntryForm(public_key: $0.publicKey.hex, balance: $0.balance, power: nil, node_key: nil) },
            validators: validators.map {
                EntryForm(public_key: $0.publicKey.hex, balance: nil, power: $0.power, node_key: $0.nodeKey.hex)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! encoder.encode(form)
    }

    public static func fromJSON(_ data: Data) throws(WireError) -> Genesis {
        let form: FileForm
        do { form = try JSONDecoder().decode(FileForm.self, from: data) } catch {
            throw .invalidGenesis("not a genesis JSON file: \(error)")
        }
        var parameters = Parameters()
        parameters.blockIntervalMs = form.parameters.block_interval_ms
        parameters.epochLength = form.parameters.epoch_length
        parameters.maxBlockBytes = form.parameters.max_block_bytes
        parameters.minValidatorStake = form.parameters.min_validator_stake
        if let interval = form.parameters.checkpoint_interval { parameters.checkpointInterval = interval }
        func key(_ hex: String, _ what: String) throws(WireError) -> PublicKey {
            do { return try PublicKey(hex: hex) } catch { throw .invalidGenesis("\(what) key \(hex.prefix(16)): \(error)") }
        }
        var accounts: [Account] = []
        for entry in form.accounts {
            guard let balance = entry.balance else { throw .invalidGenesis("account without balance") }
            guard entry.power == nil, entry.node_key == nil else {
                throw .invalidGenesis("account \(entry.public_key.prefix(16)) has a validator's power or node_key")
            }
            accounts.append(Account(publicKey: try key(entry.public_key, "account"), balance: balance))
        }
        var validators: [Validator] = []
        for entry in form.validators {
            guard let power = entry.power else { throw .invalidGenesis("validator without power") }
            guard entry.balance == nil else {
                throw .invalidGenesis("validator \(entry.public_key.prefix(16)) has a balance (list it under accounts)")
            }
            guard let nodeKey = entry.node_key else {
                throw .invalidGenesis("validator \(entry.public_key.prefix(16)) without node_key (its node's identity key)")
            }
            validators.append(Validator(publicKey: try key(entry.public_key, "validator"),
                                        nodeKey: try key(nodeKey, "validator node"), power: power))
        }
        return try Genesis(name: form.name, timeMs: form.time_ms, parameters: parameters,
                           accounts: accounts, validators: validators)
    }
}
