/// The node's self-description served at GET /status.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var nodeID: String
    public var publicKey: String
    public var version: String
    public var network: String
    public var networkID: String
    public var listenAddresses: [String]
    public var uptimeSeconds: UInt64
    public var peersKnown: Int
    public var accepted: UInt64
    public var drops: [String: UInt64]
    public var dht: DHTStatus?
    public var consensus: ConsensusStatus?

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id", publicKey = "public_key", version, network, networkID = "network_id"
        case listenAddresses = "listen_addresses", uptimeSeconds = "uptime_seconds", peersKnown = "peers_known"
        case accepted, drops, dht, consensus
    }
}
