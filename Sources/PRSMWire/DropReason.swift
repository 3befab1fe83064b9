/// Why an inbound datagram or frame was dropped; counted per reason and shown in /status.
public enum DropReason: String, CaseIterable, Sendable, Codable {
    case tooLarge = "too-large"
    case tooShort = "too-short"
    case badMagic = "bad-magic"
    case badVersion = "bad-version"
    case wrongNetwork = "wrong-network"
    case malformedEnvelope = "malformed-envelope"
    case rateLimited = "rate-limited"
    case prefixRateLimited = "prefix-rate-limited"
    case clockSkew = "clock-skew"
    case replayed = "replayed"
    case stale = "stale-sequence"
    case replayTableFull = "replay-table-full"
    case badSignature = "bad-signature"
    case unknownKind = "unknown-kind"
    case malformedPayload = "malformed-payload"
    /// Valid, but not something this node handles in its state (e.g. an unsolicited Pong).
    case unexpected = "unexpected"
    /// A DHT reply dropped before its signature check because it could only be ignored: it
    /// answers no request of ours, or late, a lookup that already finished, from a contact the
    /// routing table holds or does not want (decided by the node).
    case unwanted = "unwanted-reply"
    /// From an IP address or key this node banned for misbehaving (decided by the node, not the pipeline).
    case banned = "banned"
    /// A Hello for another network or protocol version (decided by the node).
    case handshakeRefused = "handshake-refused"
    /// A consensus message the engine could not use: stale view, not ours to collect, unknown
    /// parent, or from a non-validator (decided by the node).
    case consensusRefused = "consensus-refused"
    /// An outbound stream frame dropped because the queue toward that peer was full.
    case streamBacklog = "stream-backlog"
}
