import PRSMNode

/// Something a simulated node reported, fed to every checker.
enum SimObservation {
    case accepted(receiver: Int, sender: PublicKey, sequence: UInt64, timestamp: UInt64, receiverNowMs: UInt64,
                  worldNowMs: UInt64)
    case tables(node: Int, sizes: NodeTableSizes)
    /// What a restarted node restored, against what its store had durably synced.
    case restored(node: Int, synced: [KnownPeer], restored: [KnownPeer])
    /// A message of `kind` from `sender` passed `receiver`'s pipeline (DHT checkers only).
    case message(receiver: Int, sender: PublicKey, kind: UInt16)
    /// A contact entered `node`'s routing table.
    case dhtContactAdded(node: Int, contact: PublicKey)
    /// `node` banned a key or an IP address.
    case peerBanned(node: Int, subject: Misbehaviour.Subject)
    /// A live node's routing table just before the end; `startedMs` is when it last (re)started.
    case dhtSnapshot(node: Int, contacts: [PublicKey], startedMs: UInt64)
    /// A node committed `block`, reaching `stateRoot`.
    case committed(node: Int, block: Block, stateRoot: Digest32, atMs: UInt64)
    /// A node started over from a peer's certified snapshot: its log continues above `height`.
    case stateSynced(node: Int, height: UInt64, blockHash: Digest32)
    /// A node sealed and sent a consensus message.
    case consensusSent(node: Int, message: ConsensusMessage)
}

/// A property every run must keep. Checkers are plug-ins: each sees all observations and
/// decides at the end; each can fail (tests prove it with a deliberately broken node).
protocol SimChecker: AnyObject {
    var name: String { get }
    func observe(_ observation: SimObservation)
    func verdict(_ simulation: Simulation) -> CheckResult
}
