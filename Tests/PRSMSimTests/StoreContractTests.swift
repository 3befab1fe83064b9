import Foundation
import PRSMNode
import Testing
@testable import PRSMSim

/// One contract, two stores: the real node's GRDB store and the simulator's durable store must
/// behave alike for everything a node relies on.
struct StoreContractTests {
    enum Kind: String, CaseIterable { case grdb, simulated }

    static func make(_ kind: Kind) throws -> any Store {
        switch kind {
        case .grdb:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            return try GRDBStore(path: dir.appendingPathComponent("node.sqlite").path, networkID: Devnet.genesis.networkID)
        case .simulated:
            return SimStore(seed: 1, stream: "contract", syncFailPerMillion: 0)
        }
    }

    @Test(arguments: Kind.allCases)
    func putGetDeleteAndMissingKeys(kind: Kind) throws {
        let store = try Self.make(kind)
        var batch = StoreBatch()
        batch.put(.peers, [1], [10])
        batch.put(.peers, [2], [20])
        batch.put(.node, [1], [99])
        try store.apply(batch)
        #expect(try store.get(.peers, [1]) == [10])
        #expect(try store.get(.node, [1]) == [99])
        #expect(try store.get(.peers, [3]) == nil)
        var delete = StoreBatch()
        delete.delete(.peers, [1])
        try store.apply(delete)
        #expect(try store.get(.peers, [1]) == nil)
        #expect(try store.get(.peers, [2]) == [20])
    }

    @Test(arguments: Kind.allCases)
    func scanIsOrderedByKeyAndScopedToItsTable(kind: Kind) throws {
        let store = try Self.make(kind)
        var batch = StoreBatch()
        for key: [UInt8] in [[3], [1, 0], [1], [2, 255], [0xff]] { batch.put(.peers, key, key) }
        batch.put(.node, [0], [0])
        try store.apply(batch)
        #expect(try store.scan(.peers).map(\.key) == [[1], [1, 0], [2, 255], [3], [0xff]])
        #expect(try store.scan(.node).count == 1)
    }

    @Test(arguments: Kind.allCases)
    func batchOperationsApplyInOrderAndClearEmptiesOnlyItsTable(kind: Kind) throws {
        let store = try Self.make(kind)
        var batch = StoreBatch()
        batch.put(.peers, [1], [1])
        batch.put(.node, [1], [1])
        batch.clear(.peers)
        batch.put(.peers, [2], [2])
        batch.put(.peers, [2], [3])
        try store.apply(batch)
        #expect(try store.scan(.peers) == [StoreEntry(key: [2], value: [3])])
        #expect(try store.get(.node, [1]) == [1])
    }

    @Test(arguments: Kind.allCases)
    func syncedDataStaysReadable(kind: Kind) throws {
        let store = try Self.make(kind)
        var batch = StoreBatch()
        batch.put(.peers, [7], Array(repeating: 0xAB, count: 5_000))
        try store.apply(batch)
        try store.sync()
        #expect(try store.get(.peers, [7])?.count == 5_000)
    }

    @Test func simulatedCrashKeepsOnlySyncedWrites() throws {
        let store = SimStore(seed: 1, stream: "crash", syncFailPerMillion: 0)
        var first = StoreBatch()
        first.put(.peers, [1], [1])
        try store.apply(first)
        try store.sync()
        var second = StoreBatch()
        second.put(.peers, [2], [2])
        second.delete(.peers, [1])
        try store.apply(second)
        store.crash()
        #expect(try store.scan(.peers) == [StoreEntry(key: [1], value: [1])])
    }

    @Test func failedSyncLeavesWritesVolatile() throws {
        let store = SimStore(seed: 1, stream: "fail", syncFailPerMillion: 1_000_000)
        var batch = StoreBatch()
        batch.put(.peers, [1], [1])
        try store.apply(batch)
        #expect(throws: StoreError.self) { try store.sync() }
        store.crash()
        #expect(try store.scan(.peers).isEmpty)
        #expect(store.failedSyncs == 1)
    }

    @Test func crashedIncarnationCanNoLongerWrite() throws {
        let store = SimStore(seed: 1, stream: "epoch", syncFailPerMillion: 0)
        let before = store.handle()
        store.crash()
        var batch = StoreBatch()
        batch.put(.peers, [1], [1])
        #expect(throws: StoreError.self) { try before.apply(batch) }
        let after = store.handle()
        try after.apply(batch)
        try after.sync()
        #expect(try after.get(.peers, [1]) == [1])
    }
}
