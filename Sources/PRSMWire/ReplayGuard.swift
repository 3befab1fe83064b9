/// Refuses envelopes seen before (DESIGN.md "Replay window"). Per sender key it keeps the
/// `windowSize` highest sequence numbers accepted; a sequence in that set is a replay, one below
/// a full set is stale. Envelopes whose timestamp is more than `toleranceMs` from our clock are
/// refused as clock skew, which is what makes forgetting old senders safe: a sender's window is
/// dropped only once every timestamp it ever had accepted is outside the tolerance.
public struct ReplayGuard: Sendable {
    public struct Config: Sendable {
        public var toleranceMs: UInt64 = 30_000
        public var windowSize: Int = 64
        public var maxSenders: Int = 16_384
        public init() {}
    }

    public enum Verdict: Equatable, Sendable {
        case fresh, replayed, stale, clockSkew, tableFull
    }

    struct SenderWindow: Sendable {
        var recent: [UInt64] = []  // ascending
        var maxTimestamp: UInt64 = 0

        /// Adds `sequence` (not yet in the window, not below a full one's lowest), keeping at
        /// most `size`: a full window drops its lowest first, so the array never outgrows the
        /// window (inserting past it would double the array's capacity).
        mutating func add(_ sequence: UInt64, timestamp: UInt64, size: Int) {
            maxTimestamp = max(maxTimestamp, timestamp)
            var position = recent.insertionIndex(of: sequence)
            if recent.count >= size {
                guard position > 0 else { return }
                recent.removeFirst()
                position -= 1
            }
            recent.insert(sequence, at: position)
        }
    }

    public let config: Config
    private var windows: [PublicKey: SenderWindow] = [:]
    /// A lower bound on the earliest time any window may be forgotten.
    private var earliestExpiry: UInt64 = .max
    /// When `record` last swept out expired windows.
    private var lastSweepMs: UInt64 = 0

    public init(config: Config = Config()) { self.config = config }

    public var senderCount: Int { windows.count }

    /// May this envelope be accepted? Call `record` after its signature verified. Records nothing
    /// about this envelope; when the table is full it first forgets expired windows (which changes
    /// no verdict), so that a `.fresh` verdict for a new sender is one `record` can honour.
    public mutating func check(sender: PublicKey, sequence: UInt64, timestamp: UInt64, nowMs: UInt64) -> Verdict {
        if timestamp > nowMs &+ config.toleranceMs || timestamp &+ config.toleranceMs < nowMs {
            return .clockSkew
        }
        guard let window = windows[sender] else {
            // `earliestExpiry` is only a lower bound, so "it has passed" does not prove a window
            // can be forgotten: find out now rather than promise a slot `record` may not have.
            if windows.count >= config.maxSenders { forgetExpired(nowMs: nowMs) }
            return windows.count < config.maxSenders ? .fresh : .tableFull
        }
        if window.recent.binarySearch(sequence) != nil { return .replayed }
        if window.recent.count >= config.windowSize, let lowest = window.recent.first, sequence < lowest {
            return .stale
        }
        return .fresh
    }

    /// Records an accepted envelope. Must follow a `.fresh` verdict for the same values. Returns
    /// the copy of `sender` kept as its window's key (nil when the table is full): the pipeline
    /// hands it on instead of the copy decoded from each message, so every table keyed by this
    /// peer (peers, scores, routing contacts) shares one key buffer rather than one per message.
    @discardableResult
    public mutating func record(sender: PublicKey, sequence: UInt64, timestamp: UInt64, nowMs: UInt64) -> PublicKey? {
        // Expired windows change no verdict, so they are also swept out four times per tolerance
        // period, not only when the table is full: otherwise a node keeps a window (and a copy of
        // the key) for every sender it ever heard from: a large share of a DHT node's memory.
        // (Once per period let a window outlive its expiry by up to a whole period.)
        if nowMs >= lastSweepMs &+ config.toleranceMs / 4 {
            lastSweepMs = nowMs
            forgetExpired(nowMs: nowMs)
        }
        var index = windows.index(forKey: sender)
        if index == nil {
            if windows.count >= config.maxSenders {
                forgetExpired(nowMs: nowMs)
                guard windows.count < config.maxSenders else { return nil }
            }
            windows[sender] = SenderWindow()
            index = windows.index(forKey: sender)
        }
        guard let index else { return nil }
        // In place: a copy taken out of the table would copy its array on every message.
        windows.values[index].add(sequence, timestamp: timestamp, size: config.windowSize)
        earliestExpiry = min(earliestExpiry, windows.values[index].maxTimestamp &+ config.toleranceMs)
        return windows.keys[index]
    }

    private mutating func forgetExpired(nowMs: UInt64) {
        guard earliestExpiry < nowMs else { return }
        windows = windows.filter { $0.value.maxTimestamp &+ config.toleranceMs >= nowMs }
        earliestExpiry = windows.values.map { $0.maxTimestamp &+ config.toleranceMs }.min() ?? .max
    }
}

extension Array where Element == UInt64 {
    /// Index of `value` in an ascending array, or nil.
    func binarySearch(_ value: UInt64) -> Int? {
        let index = insertionIndex(of: value)
        return index < count && self[index] == value ? index : nil
    }

    /// First index whose element is not less than `value`.
    func insertionIndex(of value: UInt64) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
