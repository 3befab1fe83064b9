/// The storage seam: a durable, ordered key-value store with atomic batches and explicit sync.
/// `prsm-node` uses SQLite through GRDB (node.sqlite); the simulator uses a simulated durable
/// store whose unsynced writes a crash loses. Calls are synchronous and made only by the actor
/// that owns the data, so no await ever splits a state change from its write.
public protocol Store: AnyObject, Sendable {
    func get(_ table: StoreTable, _ key: [UInt8]) throws(StoreError) -> [UInt8]?
    /// Every entry of a table in ascending key order. Tables are bounded by their owners.
    func scan(_ table: StoreTable) throws(StoreError) -> [StoreEntry]
    /// The entries whose keys are at or above `start`, in ascending key order.
    func scan(_ table: StoreTable, from start: [UInt8]) throws(StoreError) -> [StoreEntry]
    /// How many entries a table holds, their value bytes, and its lowest and highest keys,
    /// without reading the values.
    func summary(_ table: StoreTable) throws(StoreError) -> StoreTableSummary
    /// Applies every operation of the batch, or none.
    func apply(_ batch: StoreBatch) throws(StoreError)
    /// Returns once everything applied so far survives a crash or power loss.
    func sync() throws(StoreError)
}

/// A subsystem's namespace in the store. Each subsystem owns its tables.
public struct StoreTable: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    /// The node's own bookkeeping (sequence reservation).
    public static let node = StoreTable("node")
    /// The address book: peers that proved themselves, by public key.
    public static let peers = StoreTable("peers")
    /// The consensus engine's safety state (highest voted view, locked view).
    public static let consensus = StoreTable("consensus")
    /// Committed blocks by height (8 bytes, big-endian): replayed into the application at start.
    public static let blocks = StoreTable("blocks")
    /// Checkpoint snapshots in chunks, served to peers that state-sync (large values).
    public static let checkpoints = StoreTable("checkpoints")
}

extension Store {
    /// By a full scan: for stores held in memory (the simulator's).
    public func scan(_ table: StoreTable, from start: [UInt8]) throws(StoreError) -> [StoreEntry] {
        try scan(table).filter { !$0.key.lexicographicallyPrecedes(start) }
    }

    public func summary(_ table: StoreTable) throws(StoreError) -> StoreTableSummary {
        let entries = try scan(table)
        return StoreTableSummary(count: entries.count, valueBytes: UInt64(entries.reduce(0) { $0 + $1.value.count }),
                                 lowestKey: entries.first?.key, highestKey: entries.last?.key)
    }
}

public struct StoreTableSummary: Equatable, Sendable {
    public let count: Int
    public let valueBytes: UInt64
    public let lowestKey: [UInt8]?
    public let highestKey: [UInt8]?
    public init(count: Int, valueBytes: UInt64, lowestKey: [UInt8]?, highestKey: [UInt8]?) {
        self.count = count
        self.valueBytes = valueBytes
        self.lowestKey = lowestKey
        self.highestKey = highestKey
    }
}

public struct StoreEntry: Equatable, Sendable {
    public let key: [UInt8]
    public let value: [UInt8]
    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// Operations applied atomically, in order.
public struct StoreBatch: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case put(StoreTable, key: [UInt8], value: [UInt8])
        case delete(StoreTable, key: [UInt8])
        case clear(StoreTable)
    }

    public private(set) var operations: [Operation] = []
    public init() {}

    public mutating func put(_ table: StoreTable, _ key: [UInt8], _ value: [UInt8]) {
        operations.append(.put(table, key: key, value: value))
    }
    public mutating func delete(_ table: StoreTable, _ key: [UInt8]) { operations.append(.delete(table, key: key)) }
    public mutating func clear(_ table: StoreTable) { operations.append(.clear(table)) }
}

/// Storage failures, with what to do about them.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case corrupt(String)
    case wrongNetwork(path: String, stored: String, expected: String)
    case newerSchema(path: String)
    case io(String)
    case syncFailed(String)

    public var description: String {
        switch self {
        case let .corrupt(detail):
            return "database is damaged or not a PRSM database (\(detail)); restore it from a backup or move it away "
                + "(the node rebuilds its address book from the network)"
        case let .wrongNetwork(path, stored, expected):
            return "\(path) belongs to network \(stored.prefix(16)), not \(expected.prefix(16)); "
                + "use the data directory of that network"
        case let .newerSchema(path):
            return "\(path) was written by a newer prsm-node; upgrade this binary before using it"
        case let .io(detail): return "storage error: \(detail)"
        case let .syncFailed(detail): return "sync failed: \(detail)"
        }
    }
}
