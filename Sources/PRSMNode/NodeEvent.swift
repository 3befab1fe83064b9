/// What a node reports to whoever runs it (CLI, tests, simulator checkers).
public enum NodeEvent: Equatable, Sendable {
    case pingAnswered(PingReply)
    case pingTimedOut(nonce: UInt64, address: PeerAddress)
}
