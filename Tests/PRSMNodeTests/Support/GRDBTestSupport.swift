import GRDB

/// Direct database access, to age a database the way a newer prsm-node would.
enum GRDBTestSupport {
    static func execute(path: String, sql: String) throws -> Bool {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
        return true
    }
}
