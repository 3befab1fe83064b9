import PRSMNode

/// The simulated durable store: batches land in a volatile layer and become durable only at
/// `sync`; a crash throws the volatile layer away, as a power cut loses unsynced pages. A seeded
/// fault makes some syncs fail. It lives in the simulator (not the node) and outlives crashes.
final class SimStore: Store, @unchecked Sendable {
    private var durable: [String: [[UInt8]: [UInt8]]] = [:]
    private var volatile: [String: [[UInt8]: [UInt8]]]
    private var random: SimRandom
    private let syncFailPerMillion: UInt32
    private(set) var syncs: UInt64 = 0
    private(set) var failedSyncs: UInt64 = 0

    init(seed: UInt64, stream: String, syncFailPerMillion: UInt32) {
        volatile = durable
        random = SimRandom(seed: seed, stream: stream)
        self.syncFailPerMillion = syncFailPerMillion
    }

    func get(_ table: StoreTable, _ key: [UInt8]) throws(StoreError) -> [UInt8]? { volatile[table.name]?[key] }

    func scan(_ table: StoreTable) throws(StoreError) -> [StoreEntry] {
        (volatile[table.name] ?? [:]).map { StoreEntry(key: $0.key, value: $0.value) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    func apply(_ batch: StoreBatch) throws(StoreError) {
        for operation in batch.operations {
            switch operation {
            case let .put(table, key, value): volatile[table.name, default: [:]][key] = value
            case let .delete(table, key): volatile[table.name]?[key] = nil
            case let .clear(table): volatile[table.name] = nil
            }
        }
    }

    func sync() throws(StoreError) {
        syncs += 1
        if random.chance(perMillion: syncFailPerMillion) {
            failedSyncs += 1
            throw .syncFailed("simulated fsync failure")
        }
        durable = volatile
    }

    /// Bumped by every crash: handles of the crashed incarnation stop working.
    private(set) var epoch = 0

    /// A crash: everything not synced is gone, and the dead incarnation can write no more
    /// (its tasks may still be unwinding when the simulator cancels them).
    func crash() {
        volatile = durable
        epoch += 1
    }

    /// The store as one incarnation of a node sees it.
    func handle() -> SimStoreHandle { SimStoreHandle(store: self, epoch: epoch) }

    /// What a restarted node must find.
    func durableEntries(_ table: StoreTable) -> [StoreEntry] {
        (durable[table.name] ?? [:]).map { StoreEntry(key: $0.key, value: $0.value) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }
}

/// One incarnation's access to a `SimStore`; refuses everything after that incarnation crashed.
final class SimStoreHandle: Store, @unchecked Sendable {
    private let store: SimStore
    private let epoch: Int

    init(store: SimStore, epoch: Int) {
        self.store = store
        self.epoch = epoch
    }

    private func alive() throws(StoreError) {
        guard store.epoch == epoch else { throw .io("the process crashed") }
    }

    func get(_ table: StoreTable, _ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try alive()
        return try store.get(table, key)
    }

    func scan(_ table: StoreTable) throws(StoreError) -> [StoreEntry] {
        try alive()
        return try store.scan(table)
    }

    func apply(_ batch: StoreBatch) throws(StoreError) {
        try alive()
        try store.apply(batch)
    }

    func sync() throws(StoreError) {
        try alive()
        try store.sync()
    }
}
