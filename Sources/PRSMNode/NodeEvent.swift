/// What a node reports to whoever runs it (CLI, tests, simulator checkers).
public enum NodeEvent: Equatable, Sendable {
    case pingAnswered(PingReply)
    case pingTimedOut(nonce: UInt64, address: PeerAddress)
    /// The DHT joined: its routing table holds `contacts` contacts.
    case dhtJoined(contacts: Int)
    /// A join attempt failed; the next one starts in `retryInMs`.
    case dhtJoinFailed(attempt: Int, retryInMs: UInt64, reason: String)
    /// A block became final here: its height, hash, transaction count and our state root after it.
    case blockCommitted(height: UInt64, hash: Digest32, transactions: Int, stateRoot: Digest32)
}
