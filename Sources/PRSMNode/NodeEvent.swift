/// What a node reports to whoever runs it (CLI, tests, simulator checkers).
public enum NodeEvent: Equatable, Sendable {
    case pingAnswered(PingReply)
    case pingTimedOut(nonce: UInt64, address: PeerAddress)
    /// The DHT joined: its routing table holds `contacts` contacts.
    case dhtJoined(contacts: Int)
    /// A join attempt failed; the next one starts in `retryInMs`.
    case dhtJoinFailed(attempt: Int, retryInMs: UInt64, reason: String)
}
