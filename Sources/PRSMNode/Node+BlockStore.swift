import Logging

/// The committed chain on disk: blocks by height, snapshots of the state, pruning by the
/// `BlockRetention` rules. Called at the end of each consensus step, when the application's
/// state is exactly the committed height's.
extension Node {
    /// Bounded work per call: a long backlog is pruned over several steps.
    static let maxPrunedPerStep: UInt64 = 4_096

    func maintainBlockStore() {
        guard let store, let replica = consensus, let retention = options.consensus?.retention else { return }
        let height = replica.core.committed.height
        let overLimit = storedChain.bytes > retention.maxStoredBytes
        // Over the limit, a new snapshot only once pruning has caught up with the last one (a
        // full-state snapshot and a sync per step would be a storm).
        let prunedToSnapshot = (storedChain.lowestHeight ?? .max) > storedChain.snapshotHeight
        if height >= storedChain.snapshotHeight + retention.snapshotInterval
            || (overLimit && prunedToSnapshot && height > storedChain.snapshotHeight) {
            saveSnapshot(replica.snapshot(), to: store)
        }
        // Blocks at or below the snapshot are not needed to restart; keep the newest ones for peers.
        let byAge = height >= retention.keepBlocks ? height - retention.keepBlocks + 1 : 0
        let floor = overLimit ? storedChain.snapshotHeight + 1 : min(byAge, storedChain.snapshotHeight + 1)
        pruneBlocks(below: floor, from: store)
    }

    func saveSnapshot(_ snapshot: ConsensusSnapshot, to store: any Store) {
        var batch = StoreBatch()
        batch.put(.consensus, Self.snapshotKey, snapshot.encode())
        do {
            try store.apply(batch)
            // Blocks below it are deleted only once it is durable.
            try store.sync()
            storedChain.snapshotHeight = snapshot.height
            logger.info("state snapshot saved", metadata: ["height": "\(snapshot.height)", "epoch": "\(snapshot.validators.epoch)"])
        } catch {
            storeErrors += 1
            logger.error("state snapshot not saved; keeping the blocks it would replace", metadata: ["error": "\(error)"])
        }
    }

    private func pruneBlocks(below floor: UInt64, from store: any Store) {
        guard let lowest = storedChain.lowestHeight, lowest < floor else { return }
        let end = min(floor, lowest + Self.maxPrunedPerStep)
        var batch = StoreBatch()
        var freed: UInt64 = 0
        for height in lowest..<end {
            let key = Self.heightKey(height)
            if let value = try? store.get(.blocks, key) { freed += UInt64(value.count) }
            batch.delete(.blocks, key)
        }
        do {
            try store.apply(batch)
            storedChain.lowestHeight = end
            storedChain.bytes -= min(freed, storedChain.bytes)
        } catch {
            storeErrors += 1
            logger.warning("old blocks not pruned", metadata: ["error": "\(error)"])
        }
    }

    /// Counts a newly stored block; `replaced` is the size of the entry it overwrote (a height
    /// committed again after a restart that could not replay it).
    func noteStoredBlock(height: UInt64, bytes: Int, replaced: Int?) {
        storedChain.lowestHeight = min(storedChain.lowestHeight ?? height, height)
        storedChain.highestHeight = max(storedChain.highestHeight ?? height, height)
        storedChain.bytes += UInt64(bytes)
        storedChain.bytes -= min(UInt64(replaced ?? 0), storedChain.bytes)
    }

    static let snapshotKey = Array("snapshot".utf8)

    /// Whether `store` holds a chain to restore (blocks or a state snapshot): then the restored
    /// chain's current validator set, not genesis, says who validates. An unreadable store counts
    /// as holding one, so start-up does not refuse what the replica would decide.
    public static func holdsChain(_ store: any Store) -> Bool {
        do {
            return try store.summary(.blocks).highestKey != nil || store.get(.consensus, snapshotKey) != nil
        } catch {
            return true
        }
    }

    static func loadSnapshot(from store: any Store, logger: Logger) -> ConsensusSnapshot? {
        do {
            guard let bytes = try store.get(.consensus, snapshotKey) else { return nil }
            return try ConsensusSnapshot.decode(bytes)
        } catch {
            logger.error("stored state snapshot is unreadable; syncing from peers", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
