import Foundation
import PRSMNode
import Testing

@Suite("DataDirectory.initialize")
struct DataDirectoryInitTests {
    @Test func createsPrivateKeyTemplateConfigAndGenesis() throws {
        try withTemporaryPath { path in
            let identity = SigningKey.generate()
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: identity)

            #expect(dir.isInitialized)
            #expect(try posixMode(path) == 0o700)
            #expect(try posixMode(dir.keyPath) == 0o600)
            #expect(try dir.loadIdentity().publicKey == identity.publicKey)

            let config = try String(contentsOfFile: dir.configPath, encoding: .utf8)
            #expect(config == NodeConfig.template)
            #expect(try dir.loadConfig() == NodeConfig())

            let genesis = try dir.loadGenesis()
            #expect(genesis.networkID == Devnet.genesis.networkID)
            #expect(genesis == Devnet.genesis)
        }
    }

    @Test func secondInitializeIsRefusedAndLeavesTheDirectoryAlone() throws {
        try withTemporaryPath { path in
            let original = SigningKey.generate()
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: original)
            let keyBytes = try Data(contentsOf: URL(fileURLWithPath: dir.keyPath))
            let genesisBytes = try Data(contentsOf: URL(fileURLWithPath: dir.genesisPath))

            let other = try Genesis(name: "othernet", timeMs: 1, accounts: [],
                                    validators: [.init(publicKey: SigningKey.generate().publicKey, nodeKey: SigningKey.generate().publicKey, power: 1)])
            let error = nodeError { try DataDirectory.initialize(at: path, genesis: other, identity: .generate()) }
            guard case let .alreadyInitialized(reported)? = error else {
                Issue.record("expected .alreadyInitialized, got \(String(describing: error))")
                return
            }
            #expect(reported == path)
            #expect(error?.description.contains("refusing to overwrite") == true)

            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.keyPath)) == keyBytes)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.genesisPath)) == genesisBytes)
            #expect(try dir.loadIdentity().publicKey == original.publicKey)
        }
    }

    @Test func aValidatorKeyIsItsOwnFileAndAnExistingOneIsNeverOverwritten() throws {
        try withTemporaryPath { path in
            let (identity, validator) = (SigningKey.generate(), SigningKey.generate())
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: identity, validatorKey: validator)
            #expect(try posixMode(dir.validatorKeyPath) == 0o600)
            #expect(try dir.loadValidatorKey()?.publicKey == validator.publicKey)
            #expect(try dir.loadIdentity().publicKey == identity.publicKey)
        }
        // An operator who placed a validator.key first: init refuses before writing anything.
        try withTemporaryPath { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let placed = SigningKey.generate()
            try KeyFile.write(placed, to: DataDirectory(path: path).validatorKeyPath)
            let error = nodeError {
                try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate(), validatorKey: .generate())
            }
            guard case .alreadyInitialized? = error else {
                Issue.record("expected .alreadyInitialized, got \(String(describing: error))")
                return
            }
            let dir = DataDirectory(path: path)
            #expect(!dir.isInitialized)
            #expect(try dir.loadValidatorKey()?.publicKey == placed.publicKey)
        }
        // A directory without one (an observer's, a client's) has none.
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            #expect(try dir.loadValidatorKey() == nil)
        }
    }

    @Test func keepsAConfigTheOperatorAlreadyPlaced() throws {
        try withTemporaryPath { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let custom = "[log]\nlevel = \"debug\"\n"
            try Data(custom.utf8).write(to: URL(fileURLWithPath: DataDirectory(path: path).configPath))

            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            #expect(try String(contentsOfFile: dir.configPath, encoding: .utf8) == custom)
            #expect(try dir.loadConfig().logLevel == "debug")
        }
    }

    @Test func loadIdentityOnAnEmptyDirectorySaysNotInitialized() throws {
        try withTemporaryPath { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let dir = DataDirectory(path: path)
            #expect(!dir.isInitialized)
            let error = nodeError { try dir.loadIdentity() }
            guard case let .notInitialized(reported)? = error else {
                Issue.record("expected .notInitialized, got \(String(describing: error))")
                return
            }
            #expect(reported == path)
            #expect(error?.description.contains("prsm-node init") == true)
        }
    }
}
