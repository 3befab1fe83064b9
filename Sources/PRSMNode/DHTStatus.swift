/// The DHT part of GET /status: whether the node joined, and how much it holds.
public struct DHTStatus: Codable, Sendable, Equatable {
    /// `not-started`, `contacting-seeds`, `looking-up`, `joined` or `retrying`.
    public var joinState: String
    /// Why the last join attempt failed, while the node is not joined.
    public var lastJoinError: String?
    /// `server` (others may add us to their tables) or `client` (we cannot be reached unsolicited).
    public var mode: String
    public var contacts: Int
    public var records: Int
    public var recordBytes: Int

    enum CodingKeys: String, CodingKey {
        case joinState = "join_state", lastJoinError = "last_join_error", mode, contacts, records
        case recordBytes = "record_bytes"
    }
}
