import Foundation
import PRSMNode
import Testing

@Suite("DirectoryLock")
struct DirectoryLockTests {
    @Test func secondLockIsRefusedUntilTheFirstIsReleased() throws {
        try withTemporaryPath { path in
            let dir = try DataDirectory.initialize(at: path, genesis: Devnet.genesis, identity: .generate())
            var first: DirectoryLock? = try DirectoryLock(directory: dir)
            #expect(first != nil)

            let error = nodeError { try DirectoryLock(directory: dir) }
            guard case let .locked(reported)? = error else {
                Issue.record("expected .locked, got \(String(describing: error))")
                return
            }
            #expect(reported == path)
            #expect(error?.description.contains("already running") == true)

            first = nil  // deinit releases the lock
            let second = try DirectoryLock(directory: dir)
            withExtendedLifetime(second) {}
        }
    }

    @Test func lockingAMissingDirectoryIsAnIOError() throws {
        try withTemporaryPath { path in
            let error = nodeError { try DirectoryLock(directory: DataDirectory(path: path)) }
            guard case .io? = error else {
                Issue.record("expected .io, got \(String(describing: error))")
                return
            }
        }
    }
}
