/// Produces envelope sequence numbers: (unix ms << 16) | counter, strictly increasing even if
/// the clock steps back, so a restarted process (or a second one with the same key) stays ahead
/// of what receivers have recorded.
public struct SequenceCounter: Sendable {
    private var last: UInt64 = 0

    public init() {}

    /// Continues above `floor` (a reservation persisted before a restart).
    public init(floor: UInt64) { last = floor }

    public var lastIssued: UInt64 { last }

    public mutating func next(nowMs: UInt64) -> UInt64 {
        last = max(last &+ 1, nowMs << 16)
        return last
    }
}
