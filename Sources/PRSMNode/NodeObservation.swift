/// An admission decision, reported to an observer (the simulator's checkers and trace).
public enum NodeObservation: Sendable {
    case accepted(sender: PublicKey, sequence: UInt64, timestamp: UInt64, kind: UInt16)
    case dropped(DropReason)
    /// A caller's DHT operation finished (the simulator's DHT checkers and benchmarks).
    case dhtFinished(DHTResult)
    /// Kademlia maintenance the simulator measures (stores sent for re-replication, joins).
    case dhtJoined(contacts: Int)
    /// A contact entered the routing table (the simulator checks that it had answered us first).
    case dhtContactAdded(PublicKey)
    /// This node banned a key or an IP address (the simulator checks that no honest peer is).
    case peerBanned(Misbehaviour.Subject)
    /// A DHT request to this peer went unanswered (after its retries) and was scored.
    case dhtPeerTimedOut(PublicKey)
    /// This node committed `block` (executed, with its state root) — agreement and validity checks.
    case committed(Block, stateRoot: Digest32)
    /// This node sealed and sent a consensus message (the no-double-vote check).
    case consensusSent(ConsensusMessage)
    /// This node's epoch ended with a committed block; `validators` run the next one.
    case epochChanged(epoch: UInt64, lastHeight: UInt64, validators: Int)
    /// A validator broke the protocol in a way this node can prove or saw.
    case consensusMisbehaviour(validator: Int, reason: String)
    /// A consensus message this node could not use, and why (the replay trace shows it).
    case consensusIgnored(reason: String)
    /// This node started over from a peer's certified snapshot of `height` (the block `hash`).
    case stateSynced(height: UInt64, hash: Digest32, epoch: UInt64)
}

/// How full a node's bounded tables are.
public struct NodeTableSizes: Sendable, Equatable {
    public let peers: Int
    public let outstandingPings: Int
    public let trackedSources: Int
    public let trackedSenders: Int
    public var scoredKeys = 0
    public var recentContacts = 0
    public var dhtContacts = 0
    public var dhtReplacements = 0
    public var dhtOutstanding = 0
    public var dhtLookups = 0
    public var dhtRecords = 0
    public var dhtHeldTokens = 0
    public var mempool = 0
    public var outboundFrames = 0
}
