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
/// only while it holds a pending transaction.
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
        public init() {}
    }

    public enum Refusal: String, Sendable, Equatable {
        /// The pool's count or byte limit is reached.
        case full
        /// The sender already holds `maxPerSender` pending transactions.
        case senderFull = "sender-full"
        /// The nonce is below the sender's next nonce: it can never be executed.
        case staleNonce = "stale-nonce"
        /// The nonce is more than `maxNonceAhead` above the sender's next nonce.
        case nonceTooFar = "nonce-too-far"
        /// Another transaction already holds this sender and nonce (the first one is kept).
        case nonceTaken = "nonce-taken"
    }

    public enum Admission: Sendable, Equatable {
        case added
        case duplicate
        case refused(Refusal)
    }

    /// One pending transaction and when it arrived (for fair, reproducible sender order).
    struct Pending: Sendable {
        let tx: Transaction
        let arrival: UInt64
    }

    /// One sender's state: its next nonce in committed state, and its pending transactions sorted
    /// by nonce (every one at or above `nextNonce`, no two with the same nonce).
    struct SenderQueue: Sendable {
        var nextNonce: UInt64
        var pending: [Pending] = []

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

    public init(config: Config = Config()) {
        self.config = config
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
        var queue = senders[tx.sender] ?? SenderQueue(nextNonce: nextNonce)
        if nextNonce > queue.nextNonce {
            queue.nextNonce = nextNonce
            evictStale(from: &queue)
        }
        defer { store(queue, for: tx.sender) }

        if tx.nonce < queue.nextNonce { return .refused(.staleNonce) }
        if tx.nonce - queue.nextNonce > config.maxNonceAhead { return .refused(.nonceTooFar) }
        let index = queue.index(of: tx.nonce)
        if index < queue.pending.count, queue.pending[index].tx.nonce == tx.nonce { return .refused(.nonceTaken) }
        if queue.pending.count >= config.maxPerSender { return .refused(.senderFull) }
        if count >= config.maxTransactions || byteCount + tx.encodedSize > config.maxBytes { return .refused(.full) }

        queue.pending.insert(Pending(tx: tx, arrival: nextArrival), at: index)
        nextArrival &+= 1
        senderOf[tx.hash] = tx.sender
        byteCount += tx.encodedSize
        return .added
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

    /// After a block commits: removes its transactions, raises each affected sender's next nonce to
    /// `nextNonce(sender)` (committed state), and evicts that sender's transactions now below it,
    /// including rivals of committed ones that held the same nonce.
    public mutating func removeCommitted(_ txs: [Transaction], nextNonce: (PublicKey) -> UInt64) {
        var affected: [PublicKey] = []
        var seen = Set<PublicKey>()
        for tx in txs where seen.insert(tx.sender).inserted {
            affected.append(tx.sender)
        }
        for sender in affected {
            guard var queue = senders[sender] else { continue }
            queue.nextNonce = max(queue.nextNonce, nextNonce(sender))
            evictStale(from: &queue)
            store(queue, for: sender)
        }
        // Committed transactions above the new next nonce (possible only if the application
        // disagrees with their nonces) are removed by hash as well.
        for tx in txs {
            guard let sender = senderOf[tx.hash], var queue = senders[sender] else { continue }
            let index = queue.index(of: tx.nonce)
            guard index < queue.pending.count, queue.pending[index].tx.hash == tx.hash else { continue }
            queue.pending.remove(at: index)
            forget(tx)
            store(queue, for: sender)
        }
    }

    // MARK: Bookkeeping

    /// Drops pending transactions below the queue's next nonce (a prefix, as they are sorted).
    private mutating func evictStale(from queue: inout SenderQueue) {
        let cut = queue.index(of: queue.nextNonce)
        guard cut > 0 else { return }
        for entry in queue.pending[..<cut] {
            forget(entry.tx)
        }
        queue.pending.removeFirst(cut)
    }

    private mutating func forget(_ tx: Transaction) {
        senderOf[tx.hash] = nil
        byteCount -= tx.encodedSize
    }

    /// Writes back a sender's table, or drops it when nothing is pending (keeps memory bounded).
    private mutating func store(_ queue: SenderQueue, for sender: PublicKey) {
        senders[sender] = queue.pending.isEmpty ? nil : queue
    }
}
