/// Counts every inbound datagram by outcome, so drops plus acceptances account for all traffic.
public struct DropCounters: Sendable, Equatable {
    public private(set) var accepted: UInt64 = 0
    private var drops: [DropReason: UInt64] = [:]

    public init() {}

    public mutating func countAccepted() { accepted += 1 }
    public mutating func countDrop(_ reason: DropReason) { drops[reason, default: 0] += 1 }

    public subscript(reason: DropReason) -> UInt64 { drops[reason, default: 0] }
    public var totalDropped: UInt64 { drops.values.reduce(0, +) }
    public var total: UInt64 { accepted + totalDropped }

    /// Every reason, in declaration order, including zeros (stable JSON for tools).
    public var byReason: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: DropReason.allCases.map { ($0.rawValue, self[$0]) })
    }
}
