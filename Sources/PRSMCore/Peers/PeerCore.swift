import PRSMWire

/// The deterministic heart of the peer layer: answers Pings and matches Pongs, runs the Hello
/// handshake, keeps a bounded table of peers that proved themselves with a signed message,
/// scores and bans peers (`scores`), and tracks this node's reachability (`reachability`:
/// observed addresses and dial-back).
/// Pure: every input carries the current time; outputs are effects for the actor shell.
public struct PeerCore: Sendable {
    /// The handshake protocol version this build speaks; a Hello with another is refused.
    public static let protocolVersion: UInt16 = 1

    public struct Config: Sendable {
        public var maxPeers = 1_024
        /// Peers the address book keeps across restarts: the most recently seen. A restart
        /// rejoins from a few of them; saving the whole table rewrote up to `maxPeers` rows at
        /// every save, and kept them in a simulated node's memory.
        public var maxSavedPeers = 64
        public var maxOutstandingPings = 256
        public var pingTimeoutMs: UInt64 = 5_000
        public var maxOutstandingHandshakes = 256
        public var handshakeTimeoutMs: UInt64 = 5_000

        /// Our handshake identity. The shell sets `networkID` from the genesis; the zero default
        /// matches no real network, so a core left unconfigured refuses every handshake.
        public var protocolVersion: UInt16 = PeerCore.protocolVersion
        public var networkID: Digest32 = .zero
        /// Where we listen (at most `Hello.maxListenAddresses` are announced, the smallest first).
        public var listenAddresses: [PeerAddress] = []
        public var roles: Roles = [.client]

        public var scores = PeerScores.Config()
        public var reachability = Reachability.Config()

        public init() {}

        public init(networkID: Digest32, listenAddresses: [PeerAddress] = [], roles: Roles = [.client]) {
            self.networkID = networkID
            self.listenAddresses = listenAddresses
            self.roles = roles
        }
    }

    /// Why a Hello (or HelloReply) was refused.
    public enum HandshakeRefusal: String, Sendable, CaseIterable {
        case wrongNetwork = "wrong-network"
        case unsupportedVersion = "unsupported-version"
    }

    public enum Effect: Equatable, Sendable {
        case send(Message, to: PeerAddress)
        case pingAnswered(PingReply)
        case pingTimedOut(nonce: UInt64, address: PeerAddress)
        /// Our Hello to `address` was answered by `peer`, who saw us at `observedAddress`.
        case handshakeCompleted(peer: PublicKey, address: PeerAddress, observedAddress: PeerAddress)
        /// A Hello or HelloReply of another network or version: nothing was sent back.
        case handshakeRefused(sender: PublicKey, address: PeerAddress, reason: HandshakeRefusal)
        case handshakeTimedOut(address: PeerAddress)
        /// Misbehaviour seen (handshake refusals, bans), for the CircuitBreaker.
        case evidence(Misbehaviour)
        case reachabilityChanged(Reachability.Status)
        /// Two peers in different network prefixes agree on where our messages come from.
        case addressConfirmed(PeerAddress)
        /// A valid message we have no use for (an unsolicited Pong or HelloReply, anything from a
        /// banned key or IP): counted, not acted on.
        case ignored(DropReason)
    }

    struct OutstandingPing: Sendable {
        let address: PeerAddress
        let sentMs: UInt64
    }

    public let config: Config
    /// The Hello this node sends and answers with.
    public let hello: Hello
    public private(set) var scores: PeerScores
    public private(set) var reachability: Reachability
    private var peers: [PublicKey: PeerRecord] = [:]
    private var outstanding: [UInt64: OutstandingPing] = [:]
    /// Hellos we sent and wait an answer for: address -> when sent.
    private var handshakes: [PeerAddress: UInt64] = [:]

    public init(config: Config = Config()) {
        self.config = config
        let announced = Array(Set(config.listenAddresses).sorted().prefix(Hello.maxListenAddresses))
        hello = Hello(version: config.protocolVersion, networkID: config.networkID,
                      listenAddresses: announced, roles: config.roles)
        scores = PeerScores(config: config.scores)
        reachability = Reachability(config: config.reachability)
    }

    /// Grows with every change to the peer table, so the shell persists only when needed.
    public private(set) var changes: UInt64 = 0

    public var peerCount: Int { peers.count }
    public var outstandingCount: Int { outstanding.count }
    public var outstandingHandshakeCount: Int { handshakes.count }
    /// Whether `key` is in the peer table at `address` (without sorting the table).
    public func knows(_ key: PublicKey, at address: PeerAddress) -> Bool { peers[key]?.address == address }

    public var knownPeers: [KnownPeer] { peers.map { $0.value.knownPeer(key: $0.key) }.sorted { $0.key < $1.key } }

    /// What the address book saves: the `maxSavedPeers` most recently seen peers, in key order.
    public var peersToSave: [KnownPeer] {
        guard peers.count > config.maxSavedPeers else { return knownPeers }
        return peers.sorted { ($0.value.lastSeenMs, $1.key) > ($1.value.lastSeenMs, $0.key) }
            .prefix(config.maxSavedPeers).map { $0.value.knownPeer(key: $0.key) }.sorted { $0.key < $1.key }
    }
    /// False once a dial-back check failed (see `Reachability.serverMode`).
    public var serverMode: Bool { reachability.serverMode }

    public func isBanned(key: PublicKey, nowMs: UInt64) -> Bool { scores.isBanned(key: key, nowMs: nowMs) }

    /// True when the IP address of `address` is banned, whatever the port.
    public func isBanned(address: PeerAddress, nowMs: UInt64) -> Bool {
        scores.isBanned(address: address, nowMs: nowMs)
    }

    public mutating func handle(_ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        switch inbound.message {
        case .dht, .consensus: return []  // the DHT's and the consensus engine's
        default: break
        }
        if isBanned(key: inbound.sender, nowMs: nowMs) || isBanned(address: inbound.source, nowMs: nowMs) {
            return [.ignored(.unexpected)]
        }
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
            var effects: [Effect] = [.pingAnswered(PingReply(
                nonce: pong.nonce, peer: inbound.sender, address: inbound.source,
                observedAddress: pong.observedAddress, rttMs: rtt))]
            effects += score(.usefulAnswer, key: inbound.sender, nowMs: nowMs)
            effects += Self.lift(reachability.observe(pong.observedAddress, reportedBy: inbound.sender,
                                                      reporterAddress: inbound.source, nowMs: nowMs))
            return effects
        case let .hello(theirs):
            if let refused = refusal(theirs, inbound, nowMs: nowMs) { return refused }
            remember(inbound.sender, at: inbound.source, nowMs: nowMs, roles: theirs.roles,
                     listenAddresses: theirs.listenAddresses)
            return [.send(.helloReply(HelloReply(hello: hello, observedAddress: inbound.source)), to: inbound.source)]
        case let .helloReply(reply):
            guard handshakes[inbound.source] != nil else { return [.ignored(.unexpected)] }
            handshakes[inbound.source] = nil
            if let refused = refusal(reply.hello, inbound, nowMs: nowMs) { return refused }
            remember(inbound.sender, at: inbound.source, nowMs: nowMs, roles: reply.hello.roles,
                     listenAddresses: reply.hello.listenAddresses)
            var effects: [Effect] = [.handshakeCompleted(peer: inbound.sender, address: inbound.source,
                                                         observedAddress: reply.observedAddress)]
            effects += score(.usefulAnswer, key: inbound.sender, nowMs: nowMs)
            effects += Self.lift(reachability.observe(reply.observedAddress, reportedBy: inbound.sender,
                                                      reporterAddress: inbound.source, nowMs: nowMs))
            return effects
        case let .dialBack(.request(nonce)):
            return Self.lift(reachability.handleRequest(
                nonce, from: inbound.source, relayCandidates: relayCandidates(for: inbound, nonce: nonce, nowMs: nowMs)))
        case let .dialBack(.relay(nonce, target)):
            return Self.lift(reachability.handleRelay(nonce, target: target, nowMs: nowMs))
        case let .dialBack(.probe(nonce)):
            return Self.lift(reachability.handleProbe(nonce, from: inbound.source, nowMs: nowMs))
        case let .dialBack(.relayed(nonce, relay)):
            return Self.lift(reachability.handleRelayed(nonce, via: relay, from: inbound.source, nowMs: nowMs))
        case .dht, .consensus:
            return []
        }
    }

    /// Sends our Hello to `address`; the answer arrives as `.handshakeCompleted` (or
    /// `.handshakeRefused`, or `.handshakeTimedOut`). Nothing is sent to a banned IP address.
    /// When too many handshakes are in flight the oldest is given up first.
    public mutating func startHandshake(to address: PeerAddress, nowMs: UInt64) -> [Effect] {
        guard !isBanned(address: address, nowMs: nowMs) else { return [] }
        var effects: [Effect] = []
        if handshakes[address] == nil, handshakes.count >= max(1, config.maxOutstandingHandshakes),
           let oldest = handshakes.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            handshakes[oldest.key] = nil
            effects.append(.handshakeTimedOut(address: oldest.key))
        }
        handshakes[address] = nowMs
        effects.append(.send(.hello(hello), to: address))
        return effects
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

    /// As A in a dial-back check: asks each helper (with its own fresh nonce, from the shell's
    /// random generator) to have a third node probe us. See `Reachability`.
    /// The shell sent a datagram to `address` (reachability must know whose NAT mappings we opened).
    public mutating func noteSent(to address: PeerAddress, nowMs: UInt64) {
        reachability.noteSent(to: address, nowMs: nowMs)
    }

    public mutating func startReachabilityCheck(via helpers: [PeerAddress], nonces: [UInt64], nowMs: UInt64) -> [Effect] {
        Self.lift(reachability.startCheck(via: helpers, nonces: nonces, nowMs: nowMs))
    }

    /// Another subsystem (the DHT) heard a validly signed message from `key` at `address`:
    /// the peer table learns of it too. Banned keys and IP addresses are not added.
    public mutating func noteContact(_ key: PublicKey, at address: PeerAddress, nowMs: UInt64) {
        guard !isBanned(key: key, nowMs: nowMs), !isBanned(address: address, nowMs: nowMs) else { return }
        remember(key, at: address, nowMs: nowMs)
    }

    /// The shell saw `key` sign a message it could not use (a malformed payload, an unknown kind).
    public mutating func recordInvalidMessage(from key: PublicKey, nowMs: UInt64) -> [Effect] {
        score(.invalidMessage, key: key, nowMs: nowMs)
    }

    /// Another subsystem (the DHT) had one of its requests answered by `key`: a key we already
    /// score moves up (see `PeerScores.creditIfTracked`).
    public mutating func recordAnswer(from key: PublicKey, nowMs: UInt64) {
        scores.creditIfTracked(key: key, nowMs: nowMs)
    }

    /// Another subsystem (the DHT) gave up on a request to `key` after its retries.
    public mutating func recordTimeout(of key: PublicKey, nowMs: UInt64) -> [Effect] {
        score(.timeout, key: key, nowMs: nowMs)
    }

    /// The receive pipeline dropped a datagram from `source` for exceeding a rate limit.
    public mutating func recordRateLimited(source: PeerAddress, nowMs: UInt64) -> [Effect] {
        guard let evidence = scores.record(.rateLimited, address: source, nowMs: nowMs) else { return [] }
        forgetPeers { $1.reputationHost == source.reputationHost }
        return [.evidence(evidence)]
    }

    /// Gives up on Pings and Hellos older than their timeouts (Pings in nonce order, then Hellos
    /// in address order; peers at those addresses lose score), ends bans that ran out, decays
    /// scores, and times out reachability checks.
    public mutating func expire(nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        let expired = outstanding.filter { $0.value.sentMs &+ config.pingTimeoutMs <= nowMs }
            .sorted { $0.key < $1.key }
        for (nonce, ping) in expired {
            outstanding[nonce] = nil
            effects.append(.pingTimedOut(nonce: nonce, address: ping.address))
        }
        let expiredHellos = handshakes.filter { $0.value &+ config.handshakeTimeoutMs <= nowMs }.keys.sorted()
        for address in expiredHellos {
            handshakes[address] = nil
            effects.append(.handshakeTimedOut(address: address))
        }
        let silent = Set(expired.map(\.value.address) + expiredHellos).sorted()
        for address in silent {
            for key in peers.filter({ $0.value.address == address }).map(\.key).sorted() {
                effects += score(.timeout, key: key, nowMs: nowMs)
            }
        }
        scores.expire(nowMs: nowMs)
        effects += Self.lift(reachability.expire(nowMs: nowMs))
        return effects
    }

    /// Reloads peers from the address book after a restart (the most recently seen first when
    /// there are more than the table holds).
    public mutating func restore(_ saved: [KnownPeer]) {
        let keep = saved.sorted { ($0.lastSeenMs, $1.key) > ($1.lastSeenMs, $0.key) }.prefix(config.maxPeers)
        peers = Dictionary(keep.map { ($0.key, PeerRecord($0)) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: helpers

    /// Refuses a Hello of another version or network: evidence out, nothing sent back. A Hello
    /// naming another network than its own (checked) envelope also costs an invalid message.
    private mutating func refusal(_ theirs: Hello, _ inbound: Inbound, nowMs: UInt64) -> [Effect]? {
        let reason: HandshakeRefusal
        let detail: String
        if theirs.version != hello.version {
            reason = .unsupportedVersion
            detail = "hello version \(theirs.version), ours \(hello.version)"
        } else if theirs.networkID != hello.networkID {
            reason = .wrongNetwork
            detail = "hello network \(theirs.networkID.hex), ours \(hello.networkID.hex)"
        } else {
            return nil
        }
        let kind: Misbehaviour.Kind = reason == .wrongNetwork ? .wrongNetwork : .unsupportedVersion
        var effects: [Effect] = [
            .handshakeRefused(sender: inbound.sender, address: inbound.source, reason: reason),
            .evidence(Misbehaviour(subject: .key(inbound.sender), kind: kind, atMs: nowMs,
                                   detail: "\(detail) from \(inbound.source)")),
        ]
        if reason == .wrongNetwork { effects += score(.invalidMessage, key: inbound.sender, nowMs: nowMs) }
        return effects
    }

    /// Known peers other than the requester's host, unbanned, in key order rotated by the
    /// requester's nonce (so relays vary from check to check without a random draw of ours).
    private func relayCandidates(for inbound: Inbound, nonce: UInt64, nowMs: UInt64) -> [PeerAddress] {
        let candidates = peers.sorted { $0.key < $1.key }.filter {
            $0.key != inbound.sender && $0.value.address.hostBytes != inbound.source.hostBytes
                && !isBanned(key: $0.key, nowMs: nowMs) && !isBanned(address: $0.value.address, nowMs: nowMs)
        }.map(\.value.address)
        guard !candidates.isEmpty else { return [] }
        let start = Int(nonce % UInt64(candidates.count))
        return Array(candidates[start...] + candidates[..<start])
    }

    /// Scores a key; a ban drops it from the peer table and yields evidence.
    private mutating func score(_ event: PeerScores.Event, key: PublicKey, nowMs: UInt64) -> [Effect] {
        guard let evidence = scores.record(event, key: key, nowMs: nowMs) else { return [] }
        forgetPeers { peer, _ in peer == key }
        return [.evidence(evidence)]
    }

    private mutating func forgetPeers(where matches: (_ key: PublicKey, _ address: PeerAddress) -> Bool) {
        let gone = peers.filter { matches($0.key, $0.value.address) }.map(\.key)
        guard !gone.isEmpty else { return }
        for key in gone { peers[key] = nil }
        changes += 1
    }

    private static func lift(_ effects: [Reachability.Effect]) -> [Effect] {
        effects.map {
            switch $0 {
            case let .send(dialBack, to: address): return .send(.dialBack(dialBack), to: address)
            case let .statusChanged(status): return .reachabilityChanged(status)
            case let .addressConfirmed(address): return .addressConfirmed(address)
            case let .ignored(reason): return .ignored(reason)
            }
        }
    }

    private mutating func remember(
        _ key: PublicKey, at address: PeerAddress, nowMs: UInt64, rttMs: UInt64? = nil, roles: Roles? = nil,
        listenAddresses: [PeerAddress]? = nil
    ) {
        var peer = peers[key] ?? PeerRecord(address: address, lastSeenMs: nowMs)
        if peers[key] == nil, peers.count >= config.maxPeers,
           let stalest = peers.min(by: { ($0.value.lastSeenMs, $0.key) < ($1.value.lastSeenMs, $1.key) }) {
            peers[stalest.key] = nil
        }
        peer.move(to: address)
        peer.lastSeenMs = nowMs
        if let rttMs { peer.rttMs = rttMs }
        if let roles { peer.roles = roles }
        if let listenAddresses { peer.listenAddresses = listenAddresses }
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
    /// Where the peer says it listens (from its Hello); the address book keeps it across restarts.
    public var listenAddresses: [PeerAddress]

    public init(key: PublicKey, address: PeerAddress, lastSeenMs: UInt64, rttMs: UInt64? = nil, roles: Roles = [],
                listenAddresses: [PeerAddress] = []) {
        self.key = key
        self.address = address
        self.lastSeenMs = lastSeenMs
        self.rttMs = rttMs
        self.roles = roles
        self.listenAddresses = listenAddresses
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
