import Testing
@testable import PRSMWire

struct GenesisTests {
    static let keys = (0..<5).map { Fixture.publicKey($0) }

    static func custom() throws -> Genesis {
        var parameters = Genesis.Parameters()
        parameters.blockIntervalMs = 2_500
        parameters.epochLength = 77
        parameters.maxBlockBytes = 65_536
        parameters.minValidatorStake = 5
        parameters.checkpointInterval = 40
        return try Genesis(
            name: "test-net-2", timeMs: 12_345, parameters: parameters,
            accounts: keys.reversed().map { Genesis.Account(publicKey: $0, balance: 1_000) },
            validators: [Genesis.Validator(publicKey: keys[3], nodeKey: keys[4], power: 2),
                         Genesis.Validator(publicKey: keys[1], nodeKey: keys[0], power: 9)])
    }

    /// The bytes of a genesis with `accounts` written in the given order (the initializer would sort them).
    static func encodeUnchecked(accounts: [PublicKey], validator: PublicKey) -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("PRSMGEN".utf8))
        writer.u8(Genesis.formatVersion)
        writer.string("x")
        writer.u64(0)
        writer.u32(1_000)
        writer.u64(1_000)
        writer.u32(1_048_576)
        writer.u64(100_000_000_000)
        writer.u64(1_000)
        writer.array(accounts) { w, key in w.fixed(key.bytes); w.u64(1) }
        writer.array([validator]) { w, key in w.fixed(key.bytes); w.fixed(key.bytes); w.u64(1) }
        return writer.bytesWritten
    }

    @Test func canonicalEncodingRoundTrips() throws {
        for genesis in [Devnet.genesis, try Self.custom()] {
            let bytes = genesis.encode()
            let decoded = try Genesis.decode(bytes)
            #expect(decoded == genesis)
            #expect(decoded.encode() == bytes)
            #expect(decoded.networkID == genesis.networkID)
        }
    }

    @Test func networkIDIsBlake2b256OfTheEncoding() throws {
        let genesis = try Self.custom()
        #expect(genesis.networkID == Blake2b.hash256(genesis.encode()))
        #expect(Devnet.genesis.networkID != genesis.networkID)
    }

    @Test func inputOrderDoesNotChangeTheNetwork() throws {
        let a = try Genesis(name: "n", timeMs: 1, accounts: Self.keys.map { .init(publicKey: $0, balance: 1) },
                            validators: [.init(publicKey: Self.keys[0], nodeKey: Self.keys[0], power: 1)])
        let b = try Genesis(name: "n", timeMs: 1, accounts: Self.keys.reversed().map { .init(publicKey: $0, balance: 1) },
                            validators: [.init(publicKey: Self.keys[0], nodeKey: Self.keys[0], power: 1)])
        #expect(a.networkID == b.networkID)
        #expect(a.accounts.map(\.publicKey) == Self.keys.sorted())
    }

    @Test func fieldsAreWrittenInTheDocumentedOrder() {
        let bytes = Devnet.genesis.encode()
        // Accounts are 40 bytes (key, balance); validators 72 (key, node key, power).
        #expect(bytes.count == 7 + 1 + 2 + 6 + 8 + 4 + 8 + 4 + 8 + 8 + 4 + 4 * 40 + 4 + 4 * 72)
        #expect(Array(bytes[0..<7]) == Array("PRSMGEN".utf8))
        #expect(bytes[7] == 3)
        #expect(Array(bytes[8..<16]) == [0, 6] + Array("devnet".utf8))
        #expect(Array(bytes[16..<24]) == [0x00, 0x00, 0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00])  // 1767225600000
        #expect(Array(bytes[24..<28]) == [0, 0, 0x03, 0xe8])  // block interval 1000 ms
        #expect(Array(bytes[28..<36]) == [0, 0, 0, 0, 0, 0, 0x03, 0xe8])  // epoch length 1000
        #expect(Array(bytes[36..<40]) == [0, 0x10, 0, 0])  // max block bytes 1 MiB
        #expect(Array(bytes[40..<48]) == [0, 0, 0, 0x17, 0x48, 0x76, 0xe8, 0])  // 1000 FTNS
        #expect(Array(bytes[48..<56]) == [0, 0, 0, 0, 0, 0, 0x03, 0xe8])  // checkpoint interval 1000
        #expect(Array(bytes[56..<60]) == [0, 0, 0, 4])
        #expect(Array(bytes[220..<224]) == [0, 0, 0, 4])
        let first = Devnet.genesis.validators[0]
        #expect(Array(bytes[224..<256]) == first.publicKey.bytes && Array(bytes[256..<288]) == first.nodeKey.bytes)
    }

    @Test func devnetValidatorsComeFromThePublicSeeds() {
        func key(_ text: String) -> PublicKey { try! SigningKey(seed: Blake2b.hash256(Array(text.utf8)).bytes).publicKey }
        let validators = (0..<4).map { (key("prsm-devnet-validator-\($0)"), key("prsm-devnet-node-\($0)")) }
            .sorted { $0.0 < $1.0 }
        #expect(Devnet.genesis.validators.map(\.publicKey) == validators.map(\.0))
        // Each validator runs on its own node, whose key is not the validator's.
        #expect(Devnet.genesis.validators.map(\.nodeKey) == validators.map(\.1))
        #expect(Devnet.genesis.accounts.map(\.publicKey) == validators.map(\.1).sorted())
        #expect(Devnet.genesis.validators.allSatisfy { $0.power == 100 })
        #expect(Devnet.genesis.accounts.allSatisfy { $0.balance == 100_000_000_000_000 })
        #expect(Devnet.genesis.name == "devnet")
        #expect(Devnet.genesis.timeMs == 1_767_225_600_000)
    }

    @Test func decodeRefusesUnsortedAndDuplicateEntries() throws {
        let (low, high) = (Self.keys.min()!, Self.keys.max()!)
        #expect(try Genesis.decode(Self.encodeUnchecked(accounts: [low, high], validator: low)).accounts.count == 2)
        #expect(throws: WireError.nonCanonical("accounts not strictly sorted by key")) {
            try Genesis.decode(Self.encodeUnchecked(accounts: [high, low], validator: low))
        }
        #expect(throws: WireError.nonCanonical("accounts not strictly sorted by key")) {
            try Genesis.decode(Self.encodeUnchecked(accounts: [low, low], validator: low))
        }
    }

    @Test func decodeRefusesUnsortedValidators() throws {
        var bytes = Devnet.genesis.encode()
        // Swap the first two validator entries (72 bytes each, after the validator count at 220).
        let first = Array(bytes[224..<296])
        bytes.replaceSubrange(224..<296, with: bytes[296..<368])
        bytes.replaceSubrange(296..<368, with: first)
        #expect(throws: WireError.nonCanonical("validators not strictly sorted by key")) { try Genesis.decode(bytes) }
    }

    @Test func decodeRefusesTrailingBytesBadMagicAndUnknownVersion() {
        let bytes = Devnet.genesis.encode()
        #expect(throws: WireError.trailingBytes(1)) { try Genesis.decode(bytes + [0]) }
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        #expect(throws: WireError.invalidGenesis("bad magic")) { try Genesis.decode(magic) }
        // Version 1 had no checkpoint interval and version 2 no node keys: such files are
        // refused, not misread.
        for unknown: UInt8 in [1, 2, 4] {
            var version = bytes
            version[7] = unknown
            #expect(throws: WireError.invalidGenesis("unknown version")) { try Genesis.decode(version) }
        }
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: WireError.self) { try Genesis.decode(Array(bytes[..<length])) }
        }
    }

    @Test func decodeRefusesAnOverlongName() {
        var bytes = Devnet.genesis.encode()
        let name = Array(String(repeating: "a", count: 65).utf8)
        bytes.replaceSubrange(8..<16, with: [0, 65] + name)
        #expect(throws: WireError.overLimit("network name", length: 65, limit: 64)) { try Genesis.decode(bytes) }
    }

    @Test func invalidContentsAreRefused() {
        let key = Self.keys[0]
        let validator = Genesis.Validator(publicKey: key, nodeKey: key, power: 1)
        #expect(throws: WireError.self) { try Genesis(name: "Upper", timeMs: 0, accounts: [], validators: [validator]) }
        #expect(throws: WireError.self) { try Genesis(name: "", timeMs: 0, accounts: [], validators: [validator]) }
        #expect(throws: WireError.self) { try Genesis(name: "n", timeMs: 0, accounts: [], validators: []) }
        #expect(throws: WireError.self) {
            try Genesis(name: "n", timeMs: 0, accounts: [], validators: [.init(publicKey: key, nodeKey: key, power: 0)])
        }
        #expect(throws: WireError.self) {
            try Genesis(name: "n", timeMs: 0, accounts: [], validators: [validator, validator])
        }
        // One node runs one validator.
        #expect(throws: WireError.invalidGenesis("two validators share a node key")) {
            try Genesis(name: "n", timeMs: 0, accounts: [], validators: [
                .init(publicKey: Self.keys[1], nodeKey: Self.keys[3], power: 1),
                .init(publicKey: Self.keys[2], nodeKey: Self.keys[3], power: 1),
            ])
        }
        #expect(throws: WireError.self) {
            try Genesis(name: "n", timeMs: 0, accounts: [.init(publicKey: key, balance: .max), .init(publicKey: Self.keys[1], balance: 1)],
                        validators: [validator])
        }
        var parameters = Genesis.Parameters()
        parameters.checkpointInterval = Genesis.Parameters.maxCheckpointInterval + 1
        #expect(throws: WireError.invalidGenesis("checkpoint interval above 1000000000")) {
            try Genesis(name: "n", timeMs: 0, parameters: parameters, accounts: [], validators: [validator])
        }
    }
}
