import Foundation
import NIOCore

/// The first state of a network. Its canonical encoding (docs/PROTOCOL.md) hashed with
/// BLAKE2b-256 is the network id every envelope carries, so nodes with different genesis files
/// can never talk by accident.
public struct Genesis: Hashable, Sendable {
    public static let magic: [UInt8] = Array("PRSMGEN".utf8)
    public static let formatVersion: UInt8 = 3
    public static let maxEntries = 100_000

    public struct Account: Hashable, Sendable {
        public let publicKey: PublicKey
        /// Base units: 1 FTNS = 10^8.
        public let balance: UInt64
        public init(publicKey: PublicKey, balance: UInt64) {
            self.publicKey = publicKey
            self.balance = balance
        }
    }

    /// A validator signs votes and timeouts with its consensus key (`publicKey`); its node
    /// signs every envelope with its own identity (`nodeKey`), and messages enveloped by that
    /// node speak for the validator. Keys are separate (DESIGN.md): the consensus key never
    /// signs the node's traffic, and a validator set change can move the validator to another
    /// node without a new consensus key. One key may still serve as both.
    public struct Validator: Hashable, Sendable {
        public let publicKey: PublicKey
        public let nodeKey: PublicKey
        public let power: UInt64
        public init(publicKey: PublicKey, nodeKey: PublicKey, power: UInt64) {
            self.publicKey = publicKey
            self.nodeKey = nodeKey
            self.power = power
        }
    }

    public struct Parameters: Hashable, Sendable {
        public var blockIntervalMs: UInt32 = 1_000
        public var epochLength: UInt64 = 1_000
        public var maxBlockBytes: UInt32 = 1_048_576
        public var minValidatorStake: UInt64 = 1_000 * 100_000_000
        /// Validators certify a state checkpoint every this many heights (and at each epoch's
        /// end); 0: only at epoch ends. Every validator must use the same value, so it is part
        /// of the network's identity rather than a node's configuration.
        public var checkpointInterval: UInt64 = 1_000
        public static let maxCheckpointInterval: UInt64 = 1_000_000_000
        public init() {}
    }

    public let name: String
    public let timeMs: UInt64
    public let parameters: Parameters
    public let accounts: [Account]
    public let validators: [Validator]

    /// Sorts accounts and validators by key, the canonical order.
    public init(name: String, timeMs: UInt64, parameters: Parameters = Parameters(),
                accounts: [Account], validators: [Validator]) throws(WireError) {
        self.name = name
        self.timeMs = timeMs
        self.parameters = parameters
        self.accounts = accounts.sorted { $0.publicKey < $1.publicKey }
        self.validators = validators.sorted { $0.publicKey < $1.publicKey }
        try validate()
    }

    func validate() throws(WireError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw .invalidGenesis("name must be 1–64 characters of a-z, 0-9 and '-'")
        }
        guard !validators.isEmpty else { throw .invalidGenesis("at least one validator is required") }
        guard accounts.count <= Self.maxEntries, validators.count <= Self.maxEntries else {
            throw .invalidGenesis("more than \(Self.maxEntries) accounts or validators")
        }
        for (a, b) in zip(accounts, accounts.dropFirst()) where a.publicKey == b.publicKey {
            throw .invalidGenesis("account \(a.publicKey.hex) listed twice")
        }
        for (a, b) in zip(validators, validators.dropFirst()) where a.publicKey == b.publicKey {
            throw .invalidGenesis("validator \(a.publicKey.hex) listed twice")
        }
        // One node runs one validator: its envelopes must name a single one.
        guard Set(validators.map(\.nodeKey)).count == validators.count else {
            throw .invalidGenesis("two validators share a node key")
        }
        guard validators.count <= ConsensusLimits.maxValidators else {
            throw .invalidGenesis("more than \(ConsensusLimits.maxValidators) validators (one validator set's limit)")
        }
        guard validators.allSatisfy({ $0.power > 0 }) else { throw .invalidGenesis("validator power must be > 0") }
        guard parameters.checkpointInterval <= Parameters.maxCheckpointInterval else {
            throw .invalidGenesis("checkpoint interval above \(Parameters.maxCheckpointInterval)")
        }
        var supply: UInt64 = 0
        var power: UInt64 = 0
        for account in accounts {
            let (sum, overflow) = supply.addingReportingOverflow(account.balance)
            guard !overflow else { throw .invalidGenesis("total balance overflows 64 bits") }
            supply = sum
        }
        for validator in validators {
            let (sum, overflow) = power.addingReportingOverflow(validator.power)
            guard !overflow else { throw .invalidGenesis("total voting power overflows 64 bits") }
            power = sum
        }
    }

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Self.magic)
        writer.u8(Self.formatVersion)
        writer.string(name)
        writer.u64(timeMs)
        writer.u32(parameters.blockIntervalMs)
        writer.u64(parameters.epochLength)
        writer.u32(parameters.maxBlockBytes)
        writer.u64(parameters.minValidatorStake)
        writer.u64(parameters.checkpointInterval)
        writer.array(accounts) { w, account in
            w.fixed(account.publicKey.bytes)
            w.u64(account.balance)
        }
        writer.array(validators) { w, validator in
            w.fixed(validator.publicKey.bytes)
            w.fixed(validator.nodeKey.bytes)
            w.u64(validator.power)
        }
        return writer.bytesWritten
    }

    /// Decodes the canonical form; entries must already be strictly sorted by key.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Genesis {
        var reader = WireReader(bytes: bytes)
        guard try reader.fixed(magic.count, "genesis magic") == magic else { throw .invalidGenesis("bad magic") }
        guard try reader.u8("genesis version") == formatVersion else { throw .invalidGenesis("unknown version") }
        let name = try reader.string("network name", limit: 64)
        let time = try reader.u64("genesis time")
        var parameters = Parameters()
        parameters.blockIntervalMs = try reader.u32("block interval")
        parameters.epochLength = try reader.u64("epoch length")
        parameters.maxBlockBytes = try reader.u32("max block bytes")
        parameters.minValidatorStake = try reader.u64("min validator stake")
        parameters.checkpointInterval = try reader.u64("checkpoint interval")
        let accounts = try reader.array("accounts", limit: maxEntries) { (r: inout WireReader) throws(WireError) in
            Account(publicKey: try PublicKey.decode(from: &r, "account key"), balance: try r.u64("balance"))
        }
        let validators = try reader.array("validators", limit: maxEntries) { (r: inout WireReader) throws(WireError) in
            Validator(publicKey: try PublicKey.decode(from: &r, "validator key"),
                      nodeKey: try PublicKey.decode(from: &r, "validator node key"), power: try r.u64("power"))
        }
        try reader.finish()
        for (a, b) in zip(accounts, accounts.dropFirst()) where !(a.publicKey < b.publicKey) {
            throw .nonCanonical("accounts not strictly sorted by key")
        }
        for (a, b) in zip(validators, validators.dropFirst()) where !(a.publicKey < b.publicKey) {
            throw .nonCanonical("validators not strictly sorted by key")
        }
        return try Genesis(name: name, timeMs: time, parameters: parameters, accounts: accounts, validators: validators)
    }

    /// BLAKE2b-256 of the canonical encoding.
    public var networkID: Digest32 { Blake2b.hash256(encode()) }
}
