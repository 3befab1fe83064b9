import Foundation
import PRSMNode
import Testing

@Suite("DataDirectory files: genesis, config, key permissions")
struct DataDirectoryFilesTests {
    @Test func corruptGenesisIsBadGenesis() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            try Data("{\"name\": \"devnet\", \"time_ms\": ".utf8).write(to: URL(fileURLWithPath: dir.genesisPath))
            let error = nodeError { try dir.loadGenesis() }
            guard case let .badGenesis(reported, _)? = error else {
                Issue.record("expected .badGenesis, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.genesisPath)
        }
    }

    @Test func missingGenesisIsBadGenesisWithAdvice() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            try FileManager.default.removeItem(atPath: dir.genesisPath)
            let error = nodeError { try dir.loadGenesis() }
            guard case let .badGenesis(reported, why)? = error else {
                Issue.record("expected .badGenesis, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.genesisPath)
            #expect(why.contains("missing"))
        }
    }

    @Test func brokenConfigNamesTheConfigFile() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            try Data("[limits]\nmax_peers = 0\n".utf8).write(to: URL(fileURLWithPath: dir.configPath))
            let error = nodeError { try dir.loadConfig() }
            guard case let .badConfig(reported, why)? = error else {
                Issue.record("expected .badConfig, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.configPath)
            #expect(why == "limits.max_peers must be > 0")
        }
    }

    @Test func missingConfigMeansDefaults() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            try FileManager.default.removeItem(atPath: dir.configPath)
            #expect(try dir.loadConfig() == NodeConfig())
        }
    }

    @Test func groupReadableKeyIsRefused() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            #expect(chmod(dir.keyPath, 0o640) == 0)
            let error = nodeError { try dir.loadIdentity() }
            guard case let .io(reported, why)? = error else {
                Issue.record("expected .io, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.keyPath)
            #expect(why.contains("chmod 600"))
        }
    }
}
