import PRSMWire

/// A DHT node we can route through: its identity, the key it signs with, the address it
/// answered us from, and when it last did.
public struct Contact: Equatable, Sendable, CustomStringConvertible {
    /// Always BLAKE2b-256 of `publicKey` (computed here, never taken from a message).
    public let id: NodeID
    public let publicKey: PublicKey
    public var address: PeerAddress
    public var lastSeenMs: UInt64

    public init(publicKey: PublicKey, address: PeerAddress, lastSeenMs: UInt64) {
        self.init(id: publicKey.nodeID, publicKey: publicKey, address: address, lastSeenMs: lastSeenMs)
    }

    /// For callers that already derived the id from this very key.
    init(id: NodeID, publicKey: PublicKey, address: PeerAddress, lastSeenMs: UInt64) {
        self.id = id
        self.publicKey = publicKey
        self.address = address
        self.lastSeenMs = lastSeenMs
    }

    public var description: String { "\(id)@\(address)" }
}
