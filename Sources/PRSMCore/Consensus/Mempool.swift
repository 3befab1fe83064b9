import PRSMWire

/// Transactions waiting to be proposed, as a pure value. The caller has already checked each
/// transaction's signature and run the application's checkTx; the mempool only enforces nonce
/// order and size limits, so a leader proposes runs the application will accept.
///
/// Deterministic by construction: nothing it returns depends on Dictionary or Set iteration order
/// (randomized per process), because the simulator must replay runs exactly. Ordering comes from
/// per-sender arrays sorted by nonce and from a monotonic arrival counter.
///
/// Bounded: at most `maxTransactions` entries and `maxBytes` bytes, and a sender's table exists
/// only while it holds a pending transaction. Transactions waiting behind a nonce gap (a lower
/// nonce of their sender is missing) cannot be proposed until it arrives, so they get a smaller
/// share (`maxGapped`) and a time limit (`gapTimeoutBlocks`): otherwise, once an overloaded pool
/// refuses one nonce, every later one of that sender would hold space forever and shut out
/// transactions that can run.
public struct Mempool: Sendable {
    public struct Config: Sendable, Equatable {
        public var maxTransactions = 20_000
        /// Sum of `Transaction.encodedSize` over pending transactions.
        public var maxBytes = 32 * 1024 * 1024
        /// Pending transactions one sender may hold, so one account cannot crowd out the rest.
        public var maxPerSender = 1_000
        /// A nonce more than this above the sender's next nonce is refused: it could not be
        /// proposed for a long time and would only hold space.
        public var maxNonceAhead: UInt64 = 1_000
        /// Pending transactions behind a nonce gap, in all (a share of `maxTransactions`).
        public var maxGapped = 5_000
        /// A transaction still behind a gap this many committed blocks after it arrived is dropped
        /// (its sender must send the missing nonce and then resubmit it).
        public var gapTimeoutBlocks: UInt64 = 256
        public init() {}
    }

    /// Why `add` refuses. Clients see it as a `TransactionRefusal.Reason`, whose names are the
    /// ones people read.
    public enum Refusal: Sendable, Equatable {
        /// The pool's count or byte limit is reached.
        case full
        /// The sender already holds `maxPerSender` pending transactions.
        case senderFull
        /// The nonce is below the sender's next nonce: it can never be executed.
        case staleNonce
        /// The nonce is more than `maxNonceAhead` above the sender's next nonce.
        case nonceTooFar
        /// Another transaction already holds this sender and nonce (the first one is kept).
        case nonceTaken
        /// The nonce leaves a gap and the pool already holds `maxGapped` such transactions.
        case gappedFull

        /// The reason a client is told (PROTOCOL.md 15.9).
        public var reason: TransactionRefusal.Reason {
            switch self {
            case .full: return .poolFull
            case .senderFull: return .senderFull
            case .staleNonce: return .staleNonce
            case .nonceTooFar: return .nonceTooFar
            case .nonceTaken: return .nonceTaken
            case .gappedFull: return .gappedFull
            }
        }
    }

    public enum Admission: Sendable, Equatable {
        case added
        case duplicate
        case refused(Refusal)
    }

    /// One pending transaction and when it arrived: the arrival number gives a fair, reproducible
    /// sender order, the committed height a gapped transaction's age.
    struct Pending: Sendable {
        let tx: Transaction
        let arrival: UInt64
        let height: UInt64
    }

    /// One sender's state: its next nonce in committed state, and its pending transactions sorted
    /// by nonce (every one at or above `nextNonce`, no two with the same nonce).
    struct SenderQueue: Sendable {
        var nextNonce: UInt64
        var pending: [Pending] = []
        /// Pending transactions behind a gap when `store` last counted (for the pool's total).
        var gapped = 0

        /// How many pending transactions run without a gap from `nextNonce`: a binary search, as
        /// `nonce - index` never decreases along the sorted, distinct nonces.
        func runLength() -> Int {
            var low = 0
            var high = pending.count
            while low < high {
                let mid = (low + high) / 2
                if pending[mid].tx.nonce - UInt64(mid) == nextNonce { low = mid + 1 } else { high = mid }
            }
            return low
        }

        /// Removes and returns the pending transactions below `nextNonce` (a prefix: they are sorted).
        mutating func dropStale() -> ArraySlice<Pending> {
            let cut = index(of: nextNonce)
            guard cut > 0 else { return [] }
            defer { pending.removeFirst(cut) }
            return pending[..<cut]
        }

        /// Whether `tx`, inserted at `index`, would wait behind a gap.
        func leavesGap(_ tx: Transaction, at index: Int) -> Bool {
            index > runLength() || tx.nonce - UInt64(index) != nextNonce
        }

        /// Where a transaction with `nonce` is or would be inserted (binary search).
        func index(of nonce: UInt64) -> Int {
            var low = 0
            var high = pending.count
            while low < high {
                let mid = (low + high) / 2
                if pending[mid].tx.nonce < nonce { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    public let config: Config
    private var senders: [PublicKey: SenderQueue] = [:]
    /// Sender of every pending transaction, for `contains` and removal by hash.
    private var senderOf: [Digest32: PublicKey] = [:]
    private var nextArrival: UInt64 = 0
    public private(set) var byteCount = 0
    /// Pending transactions behind a nonce gap, and the senders holding them.
    public private(set) var gappedCount = 0
    private var gappedSenders = Set<PublicKey>()
    /// The last committed height reported by `removeCommitted` (ages gapped transactions).
    public private(set) var height: UInt64 = 0

    /// `height`: the committed height the pool starts at (a node that starts from a snapshot
    /// starts above 0), so transactions admitted before the next commit get their true age.
    public init(config: Config = Config(), height: UInt64 = 0) {
        self.config = config
        self.height = height
    }

    public var count: Int { senderOf.count }

    /// Senders with at least one pending transaction (tables are dropped when empty).
    var senderCount: Int { senders.count }

    public func contains(_ hash: Digest32) -> Bool { senderOf[hash] != nil }

    /// The first nonce of `sender` above every transaction it has pending (nil: none pending).
    public func nonceAfterPending(of sender: PublicKey) -> UInt64? {
        senders[sender]?.pending.last.map { $0.tx.nonce + 1 }
    }

    // MARK: Admission

    /// Admits `tx` if its nonce fits and there is room. `nextNonce` is the sender's next nonce in
    /// committed state as checkTx reported it; the highest value seen is remembered, so a report
    /// computed against older state cannot move it back, and one that moves it forward evicts
    /// that sender's transactions it made stale.
    public mutating func add(_ tx: Transaction, nextNonce: UInt64) -> Admission {
        if senderOf[tx.hash] != nil { return .duplicate }
        // Taken out of the table while it changes, so its array is not shared and an insert does
        // not copy every pending entry (`store` puts it back).
        var queue = senders.removeValue(forKey: tx.sender) ?? SenderQueue(nextNonce: nextNonce)
        if nextNonce > queue.nextNonce {
            queue.nextNonce = nextNonce
            evictStale(from: &queue)
        }
        defer { store(queue, for: tx.sender) }
        if let refusal = refusal(of: tx, in: queue, count: count, bytes: byteCount) { return .refused(refusal) }
        queue.pending.insert(Pending(tx: tx, arrival: nextArrival, height: height), at: queue.index(of: tx.nonce))
        nextArrival &+= 1
        senderOf[tx.hash] = tx.sender
        byteCount += tx.encodedSize
        return .added
    }

    /// Why `add` would refuse `tx` now, worked out without changing the pool, so a caller can
    /// refuse before paying for a signature check. (Not a duplicate check: see `contains`.)
    public func refusal(of tx: Transaction, nextNonce: UInt64) -> Refusal? {
        guard var queue = senders[tx.sender] else {
            return refusal(of: tx, in: SenderQueue(nextNonce: nextNonce), count: count, bytes: byteCount)
        }
        var stale: ArraySlice<Pending> = []
        if nextNonce > queue.nextNonce {
            // As `add` would: the transactions the new next nonce makes stale leave first.
            queue.nextNonce = nextNonce
            stale = queue.dropStale()
        }
        return refusal(of: tx, in: queue, count: count - stale.count,
                       bytes: byteCount - stale.reduce(0) { $0 + $1.tx.encodedSize })
    }

    /// The admission rules for `tx` joining `queue` (its stale entries already gone) in a pool
    /// holding `count` transactions of `bytes` bytes.
    private func refusal(of tx: Transaction, in queue: SenderQueue, count: Int, bytes: Int) -> Refusal? {
        if tx.nonce < queue.nextNonce { return .staleNonce }
        if tx.nonce - queue.nextNonce > config.maxNonceAhead { return .nonceTooFar }
        let index = queue.index(of: tx.nonce)
        if index < queue.pending.count, queue.pending[index].tx.nonce == tx.nonce { return .nonceTaken }
        if queue.pending.count >= config.maxPerSender { return .senderFull }
        if count >= config.maxTransactions || bytes + tx.encodedSize > config.maxBytes { return .full }
        if gappedCount >= config.maxGapped, queue.leavesGap(tx, at: index) { return .gappedFull }
        return nil
    }

    // MARK: Proposing

    /// Transactions ready to propose: for each sender, the contiguous nonce run starting at its
    /// next nonce. A transaction whose hash is in `excluding` (already in an uncommitted ancestor
    /// block) is skipped but still fills its nonce slot, so the run continues past it. Senders take
    /// turns, one transaction per round, in the order their earliest pending transaction arrived,
    /// so no sender starves the others and every node reaps the same list from the same adds.
    /// Stops at `maxCount`, or as soon as the next transaction would exceed `maxBytes`.
    public func reap(maxCount: Int, maxBytes: Int, excluding: Set<Digest32>) -> [Transaction] {
        guard maxCount > 0 else { return [] }
        // Only senders whose lowest pending nonce is their next nonce have a run to offer.
        var turns: [(earliest: UInt64, cursor: Cursor)] = []
        for queue in senders.values {
            guard let first = queue.pending.first, first.tx.nonce == queue.nextNonce else { continue }
            let earliest = queue.pending.lazy.map(\.arrival).min() ?? first.arrival
            turns.append((earliest, Cursor(pending: queue.pending, expected: queue.nextNonce)))
        }
        // Arrival numbers are unique, so this order is total and independent of dictionary order.
        turns.sort { $0.earliest < $1.earliest }
        var active = turns.map(\.cursor)

        var reaped: [Transaction] = []
        var bytes = 0
        while !active.isEmpty {
            var stillActive: [Cursor] = []
            stillActive.reserveCapacity(active.count)
            for var cursor in active {
                guard let tx = cursor.next(excluding: excluding) else { continue }
                if bytes + tx.encodedSize > maxBytes { return reaped }
                reaped.append(tx)
                bytes += tx.encodedSize
                if reaped.count >= maxCount { return reaped }
                stillActive.append(cursor)
            }
            active = stillActive
        }
        return reaped
    }

    /// Walks one sender's contiguous run during a reap.
    struct Cursor {
        let pending: [Pending]
        var index = 0
        var expected: UInt64

        init(pending: [Pending], expected: UInt64) {
            self.pending = pending
            self.expected = expected
        }

        /// The next transaction of the run not in `excluding`, or nil where the run ends.
        mutating func next(excluding: Set<Digest32>) -> Transaction? {
            while index < pending.count, pending[index].tx.nonce == expected {
                let tx = pending[index].tx
                index += 1
                expected &+= 1
                if !excluding.contains(tx.hash) { return tx }
            }
            return nil
        }
    }

    // MARK: Commit

    /// After block `height` commits: removes its transactions, raises each affected sender's next
    /// nonce to `nextNonce(sender)` (committed state), and evicts that sender's transactions now
    /// below it, including rivals of committed ones that held the same nonce. Then drops the
    /// transactions that waited behind a gap for `gapTimeoutBlocks`.
    public mutating func removeCommitted(_ txs: [Transaction], height: UInt64, nextNonce: (PublicKey) -> UInt64) {
        self.height = max(self.height, height)
        defer { expireGapped() }
        var affected: [PublicKey] = []
        var seen = Set<PublicKey>()
        for tx in txs where seen.insert(tx.sender).inserted {
            affected.append(tx.sender)
        }
        for sender in affected {
            guard var queue = senders.removeValue(forKey: sender) else { continue }
            queue.nextNonce = max(queue.nextNonce, nextNonce(sender))
            evictStale(from: &queue)
            store(queue, for: sender)
        }
        // Committed transactions above the new next nonce (possible only if the application
        // disagrees with their nonces) are removed by hash as well.
        for tx in txs {
            guard let sender = senderOf[tx.hash], var queue = senders.removeValue(forKey: sender) else { continue }
            let index = queue.index(of: tx.nonce)
            if index < queue.pending.count, queue.pending[index].tx.hash == tx.hash {
                queue.pending.remove(at: index)
                forget(tx)
            }
            store(queue, for: sender)
        }
    }

    // MARK: Bookkeeping

    /// Drops gapped transactions older than `gapTimeoutBlocks`. (Set order does not matter: each
    /// sender's entries are dropped independently.)
    private mutating func expireGapped() {
        guard height >= config.gapTimeoutBlocks else { return }
        let cutoff = height - config.gapTimeoutBlocks
        for sender in gappedSenders {
            guard var queue = senders[sender] else { continue }
            let run = queue.runLength()
            guard queue.pending[run...].contains(where: { $0.height <= cutoff }) else { continue }
            for entry in queue.pending[run...] where entry.height <= cutoff { forget(entry.tx) }
            queue.pending = Array(queue.pending[..<run]) + queue.pending[run...].filter { $0.height > cutoff }
            store(queue, for: sender)
        }
    }

    /// Drops pending transactions below the queue's next nonce.
    private mutating func evictStale(from queue: inout SenderQueue) {
        for entry in queue.dropStale() { forget(entry.tx) }
    }

    private mutating func forget(_ tx: Transaction) {
        senderOf[tx.hash] = nil
        byteCount -= tx.encodedSize
    }

    /// Writes back a sender's table, or drops it when nothing is pending (keeps memory bounded),
    /// and recounts its gapped transactions (`queue.gapped` still holds the last count).
    private mutating func store(_ queue: SenderQueue, for sender: PublicKey) {
        var queue = queue
        let before = queue.gapped
        queue.gapped = queue.pending.count - queue.runLength()
        gappedCount += queue.gapped - before
        if queue.gapped > 0 { gappedSenders.insert(sender) } else { gappedSenders.remove(sender) }
        senders[sender] = queue.pending.isEmpty ? nil : queue
    }
}
