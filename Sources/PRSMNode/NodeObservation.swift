/// An admission decision, reported to an observer (the simulator's checkers and trace).
public enum NodeObservation: Sendable {
    case accepted(sender: PublicKey, sequence: UInt64, timestamp: UInt64, kind: UInt16)
    case dropped(DropReason)
}

/// How full a node's bounded tables are.
public struct NodeTableSizes: Sendable, Equatable {
    public let peers: Int
    public let outstandingPings: Int
    public let trackedSources: Int
    public let trackedSenders: Int
}
