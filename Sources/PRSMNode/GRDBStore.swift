import Foundation
import GRDB

/// The real node's store: one SQLite database (node.sqlite) in WAL mode through GRDB, with
/// `synchronous = FULL` so a batch is durable when `apply` returns; `sync` checkpoints the WAL.
/// A meta table records the network id and the schema; a database of another network or of a
/// newer schema is refused.
public final class GRDBStore: Store {
    private let queue: DatabaseQueue
    public let path: String

    public init(path: String, networkID: Digest32) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            let migrator = Self.migrator
            try queue.write { db in
                if try migrator.hasBeenSuperseded(db) { throw StoreError.newerSchema(path: path) }
            }
            try migrator.migrate(queue)
            try queue.write { db in
                let stored = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'network_id'").map { [UInt8]($0) }
                if let stored, stored != networkID.bytes {
                    throw StoreError.wrongNetwork(path: path, stored: Hex.encode(stored), expected: networkID.hex)
                }
                if stored == nil {
                    try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('network_id', ?)",
                                   arguments: [Data(networkID.bytes)])
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw .corrupt("\(path): \(error.message ?? "not a database")")
        } catch {
            throw .io("\(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                CREATE TABLE kv (tbl TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                                 PRIMARY KEY (tbl, key)) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    public func get(_ table: StoreTable, _ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try run {
            try queue.read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM kv WHERE tbl = ? AND key = ?",
                                  arguments: [table.name, Data(key)]).map { [UInt8]($0) }
            }
        }
    }

    public func scan(_ table: StoreTable) throws(StoreError) -> [StoreEntry] {
        try run {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT key, value FROM kv WHERE tbl = ? ORDER BY key", arguments: [table.name])
                    .map { StoreEntry(key: [UInt8]($0["key"] as Data), value: [UInt8]($0["value"] as Data)) }
            }
        }
    }

    public func scan(_ table: StoreTable, from start: [UInt8]) throws(StoreError) -> [StoreEntry] {
        try run {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT key, value FROM kv WHERE tbl = ? AND key >= ? ORDER BY key",
                                 arguments: [table.name, Data(start)])
                    .map { StoreEntry(key: [UInt8]($0["key"] as Data), value: [UInt8]($0["value"] as Data)) }
            }
        }
    }

    public func summary(_ table: StoreTable) throws(StoreError) -> StoreTableSummary {
        try run {
            try queue.read { db in
                let row = try Row.fetchOne(db, sql: """
                    SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(value)), 0) AS bytes, MIN(key) AS low, MAX(key) AS high
                    FROM kv WHERE tbl = ?
                    """, arguments: [table.name])
                let count: Int = row?["n"] ?? 0
                let bytes: Int64 = row?["bytes"] ?? 0
                let low: Data? = row?["low"]
                let high: Data? = row?["high"]
                return StoreTableSummary(count: count, valueBytes: UInt64(max(0, bytes)),
                                         lowestKey: low.map { [UInt8]($0) }, highestKey: high.map { [UInt8]($0) })
            }
        }
    }

    public func apply(_ batch: StoreBatch) throws(StoreError) {
        try run {
            try queue.write { db in
                for operation in batch.operations {
                    switch operation {
                    case let .put(table, key, value):
                        try db.execute(sql: "INSERT OR REPLACE INTO kv(tbl, key, value) VALUES (?, ?, ?)",
                                       arguments: [table.name, Data(key), Data(value)])
                    case let .delete(table, key):
                        try db.execute(sql: "DELETE FROM kv WHERE tbl = ? AND key = ?", arguments: [table.name, Data(key)])
                    case let .clear(table):
                        try db.execute(sql: "DELETE FROM kv WHERE tbl = ?", arguments: [table.name])
                    }
                }
            }
        }
    }

    public func sync() throws(StoreError) {
        try run { try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") } }
    }

    private func run<T>(_ body: () throws -> T) throws(StoreError) -> T {
        do { return try body() } catch let error as DatabaseError
            where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw .corrupt("\(path): \(error.message ?? "corrupt")")
        } catch {
            throw .io("\(path): \(error)")
        }
    }
}
