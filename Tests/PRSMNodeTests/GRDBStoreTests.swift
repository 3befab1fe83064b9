import Foundation
import PRSMNode
import Testing

struct GRDBStoreTests {
    func databasePath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-grdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("node.sqlite").path
    }

    @Test func dataSurvivesReopening() throws {
        let path = try databasePath()
        do {
            let store = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
            var batch = StoreBatch()
            batch.put(.peers, [1, 2, 3], [4, 5, 6])
            try store.apply(batch)
            try store.sync()
        }
        let reopened = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
        #expect(try reopened.get(.peers, [1, 2, 3]) == [4, 5, 6])
    }

    @Test func databaseOfAnotherNetworkIsRefused() throws {
        let path = try databasePath()
        _ = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
        let other = Blake2b.hash256(Array("other".utf8))
        do {
            _ = try GRDBStore(path: path, networkID: other)
            Issue.record("a database of another network was opened")
        } catch {
            guard case .wrongNetwork = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("belongs to network"))
        }
    }

    @Test func corruptDatabaseGivesAClearErrorAndIsNotOverwritten() throws {
        let path = try databasePath()
        let garbage = Data((0..<8_192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
            Issue.record("a corrupt database was opened")
        } catch {
            guard case .corrupt = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("restore it from a backup"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func databaseOfANewerSchemaIsRefused() throws {
        let path = try databasePath()
        _ = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
        // Simulate a newer prsm-node: a migration this build does not know.
        let raw = try GRDBTestSupport.execute(path: path, sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v99-future')")
        #expect(raw)
        do {
            _ = try GRDBStore(path: path, networkID: Devnet.genesis.networkID)
            Issue.record("a newer schema was opened")
        } catch {
            #expect(error == .newerSchema(path: path))
        }
    }
}
