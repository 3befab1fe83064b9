import PRSMWire

/// The deterministic heart of peer liveness: answers Pings, matches Pongs to the Pings we sent,
/// and keeps a bounded table of peers that proved themselves with a signed message.
/// Pure: every input carries the current time; outputs are effects for the actor shell.
public struct PeerCore: Sendable {
    public struct Config: Sendable {
        public var maxPeers = 1_024
        public var maxOutstandingPings = 256
        public var pingTimeoutMs: UInt64 = 5_000
        public init() {}
    }

    public enum Effect: Equatable, Sendable {
        case send(Message, to: PeerAddress)
        case pingAnswered(PingReply)
        case pingTimedOut(nonce: UInt64, address: PeerAddress)
        /// A valid message we have no use for (an unsolicited Pong): counted, not acted on.
        case ignored(DropReason)
    }

    struct OutstandingPing: Sendable {
        let address: PeerAddress
        let sentMs: UInt64
    }

    public let config: Config
    private var peers: [PublicKey: KnownPeer] = [:]
    private var outstanding: [UInt64: OutstandingPing] = [:]

    public init(config: Config = Config()) { self.config = config }

    /// Grows with every change to the peer table, so the shell persists only when needed.
    public private(set) var changes: UInt64 = 0

    public var peerCount: Int { peers.count }
    public var outstandingCount: Int { outstanding.count }
    public var knownPeers: [KnownPeer] { peers.values.sorted { $0.key < $1.key } }

    public mutating func handle(_ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        switch inbound.message {
        case let .ping(ping):
            remember(inbound.sender, at: inbound.source, nowMs: nowMs)
            return [.send(.pong(Pong(nonce: ping.nonce, observedAddress: inbound.source)), to: inbound.source)]
        case let .pong(pong):
            guard let sent = outstanding[pong.nonce], sent.address == inbound.source else {
                return [.ignored(.unexpected)]
            }
            outstanding[pong.nonce] = nil
            let rtt = nowMs >= sent.sentMs ? nowMs - sent.sentMs : 0
            remember(inbound.sender, at: inbound.source, nowMs: nowMs, rttMs: rtt)
            return [.pingAnswered(PingReply(
                nonce: pong.nonce, peer: inbound.sender, address: inbound.source,
                observedAddress: pong.observedAddress, rttMs: rtt))]
        case let .hello(hello):
            remember(inbound.sender, at: inbound.source, nowMs: nowMs, roles: hello.roles)
            return []
        }
    }

    /// Sends a Ping; the answer (or timeout) comes back as an effect. When too many Pings are
    /// in flight the oldest is given up first, so the table stays bounded.
    public mutating func startPing(to address: PeerAddress, nonce: UInt64, nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        if outstanding[nonce] != nil { return [] }
        if outstanding.count >= config.maxOutstandingPings,
           let oldest = outstanding.min(by: { ($0.value.sentMs, $0.key) < ($1.value.sentMs, $1.key) }) {
            outstanding[oldest.key] = nil
            effects.append(.pingTimedOut(nonce: oldest.key, address: oldest.value.address))
        }
        outstanding[nonce] = OutstandingPing(address: address, sentMs: nowMs)
        effects.append(.send(.ping(Ping(nonce: nonce)), to: address))
        return effects
    }

    /// Gives up on Pings older than the timeout, in nonce order.
    public mutating func expire(nowMs: UInt64) -> [Effect] {
        let expired = outstanding.filter { $0.value.sentMs + config.pingTimeoutMs <= nowMs }
            .sorted { $0.key < $1.key }
        for (nonce, _) in expired { outstanding[nonce] = nil }
        return expired.map { .pingTimedOut(nonce: $0.key, address: $0.value.address) }
    }

    /// Reloads peers from the address book after a restart (the most recently seen first when
    /// there are more than the table holds).
    public mutating func restore(_ saved: [KnownPeer]) {
        let keep = saved.sorted { ($0.lastSeenMs, $1.key) > ($1.lastSeenMs, $0.key) }.prefix(config.maxPeers)
        peers = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0) })
    }

    private mutating func remember(
        _ key: PublicKey, at address: PeerAddress, nowMs: UInt64, rttMs: UInt64? = nil, roles: Roles? = nil
    ) {
        var peer = peers[key] ?? KnownPeer(key: key, address: address, lastSeenMs: nowMs, rttMs: nil, roles: [])
        if peers[key] == nil, peers.count >= config.maxPeers,
           let stalest = peers.values.min(by: { ($0.lastSeenMs, $0.key) < ($1.lastSeenMs, $1.key) }) {
            peers[stalest.key] = nil
        }
        peer.address = address
        peer.lastSeenMs = nowMs
        if let rttMs { peer.rttMs = rttMs }
        if let roles { peer.roles = roles }
        peers[key] = peer
        changes += 1
    }
}

/// A peer that sent us a validly signed message.
public struct KnownPeer: Equatable, Sendable {
    public let key: PublicKey
    public var address: PeerAddress
    public var lastSeenMs: UInt64
    public var rttMs: UInt64?
    public var roles: Roles

    public init(key: PublicKey, address: PeerAddress, lastSeenMs: UInt64, rttMs: UInt64? = nil, roles: Roles = []) {
        self.key = key
        self.address = address
        self.lastSeenMs = lastSeenMs
        self.rttMs = rttMs
        self.roles = roles
    }
}

/// The answer to one of our Pings.
public struct PingReply: Equatable, Sendable {
    public let nonce: UInt64
    public let peer: PublicKey
    public let address: PeerAddress
    public let observedAddress: PeerAddress
    public let rttMs: UInt64
}
