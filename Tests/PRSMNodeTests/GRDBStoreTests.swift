import Foundation
import PRSMNode
import Testing

struct GRDBStoreTests {
    func databasePath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-grdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("node.sqlite").path
    }

    /// What `run` asks before its consensus check: a fresh store holds no chain; a stored block
    /// or a state snapshot is one.
    @Test func aStoreHoldsAChainOnceItHasABlockOrASnapshot() throws {
        let fresh = try GRDBStore(path: try databasePath(), networkID: Devnet.genesis.networkID)
        #expect(!Node.holdsChain(fresh))
        var batch = StoreBatch()
        batch.put(.node, Array("sequence".utf8), [1])
        try fresh.apply(batch)
        #expect(!Node.holdsChain(fresh), "bookkeeping is no chain")
        batch = StoreBatch()
        batch.put(.blocks, [0, 0, 0, 0, 0, 0, 0, 1], [1, 2, 3])
        try fresh.apply(batch)
        #expect(Node.holdsChain(fresh))

        let synced = try GRDBStore(path: try databasePath(), networkID: Devnet.genesis.networkID)
        batch = StoreBatch()
        batch.put(.consensus, Array("snapshot".utf8), [9])
        try synced.apply(batch)
        #expect(Node.holdsChain(synced))
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

    /// A restart reads only the blocks above its snapshot, and learns the rest from a summary:
    /// both must agree with a full scan.
    @Test func aRangeScanAndASummaryMatchAFullScan() throws {
        let store = try GRDBStore(path: try databasePath(), networkID: Devnet.genesis.networkID)
        #expect(try store.summary(.blocks) == StoreTableSummary(count: 0, valueBytes: 0, lowestKey: nil, highestKey: nil))
        var batch = StoreBatch()
        for height in UInt64(5)...UInt64(300) {
            batch.put(.blocks, withUnsafeBytes(of: height.bigEndian, Array.init), Array(repeating: 1, count: Int(height % 7)))
        }
        batch.put(.peers, [0], [9, 9])
        try store.apply(batch)
        let all = try store.scan(.blocks)
        let from: [UInt8] = withUnsafeBytes(of: UInt64(256).bigEndian, Array.init)
        #expect(try store.scan(.blocks, from: from) == all.filter { !$0.key.lexicographicallyPrecedes(from) })
        #expect(try store.scan(.blocks, from: from).count == 45)
        #expect(try store.summary(.blocks) == StoreTableSummary(
            count: all.count, valueBytes: UInt64(all.reduce(0) { $0 + $1.value.count }),
            lowestKey: all.first?.key, highestKey: all.last?.key))
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
