import Foundation
import PRSMNode
import Testing

@Suite("DataDirectory.apiToken")
struct APITokenTests {
    @Test func createsAPrivateTokenOnceAndReturnsItAgain() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            #expect(!FileManager.default.fileExists(atPath: dir.tokenPath))

            let token = try dir.apiToken()
            #expect(try posixMode(dir.tokenPath) == 0o600)
            #expect(token.count == 64)
            #expect(token.allSatisfy { $0.isHexDigit })
            let fileBytes = try Data(contentsOf: URL(fileURLWithPath: dir.tokenPath))

            #expect(try dir.apiToken() == token)
            // Another process (another DataDirectory value) reads the same token.
            #expect(try DataDirectory(path: path).apiToken() == token)
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.tokenPath)) == fileBytes)
        }
    }

    @Test func tokensDifferBetweenDirectories() throws {
        let first = try withTemporaryPath { path in
            try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate()).apiToken()
        }
        let second = try withTemporaryPath { path in
            try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate()).apiToken()
        }
        #expect(first != second)
    }

    @Test func groupReadableTokenIsRefused() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            _ = try dir.apiToken()
            #expect(chmod(dir.tokenPath, 0o644) == 0)
            let error = nodeError { try dir.apiToken() }
            guard case let .io(reported, why)? = error else {
                Issue.record("expected .io, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.tokenPath)
            #expect(why.contains("chmod 600"))
        }
    }

    /// An empty token file (a crash between creating and writing it) must not make "Bearer " a
    /// valid credential for the local API.
    @Test func emptyTokenFileIsRefused() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            #expect(FileManager.default.createFile(atPath: dir.tokenPath, contents: Data("\n".utf8),
                                                   attributes: [.posixPermissions: 0o600]))
            let error = nodeError { try dir.apiToken() }
            guard case let .io(reported, _)? = error else {
                Issue.record("expected .io, got \(String(describing: error))")
                return
            }
            #expect(reported == dir.tokenPath)
        }
    }
}
