import NIOCore

/// Admission of inbound envelopes, cheapest check first (DESIGN.md "Wire protocol"):
/// size → network id → per-source rate limit → per-prefix (/24, /48) rate limit → replay check
/// (read-only) → signature → replay record → decode. Pure: the caller passes the time and gets a typed outcome.
public struct ReceivePipeline: Sendable {
    public struct Config: Sendable {
        public var networkID: Digest32
        public var maxSize: Int = Envelope.maxDatagramSize
        public var sourceLimit = TokenBucketTable<[UInt8]>.Config(perSecond: 500, burst: 1_000, maxEntries: 4_096)
        /// Shared by every address of one IPv4 /24 or IPv6 /48, so a sender cannot multiply its
        /// budget by spreading over neighbouring addresses.
        public var prefixLimit = TokenBucketTable<[UInt8]>.Config(perSecond: 2_000, burst: 4_000, maxEntries: 4_096)
        public var replay = ReplayGuard.Config()
        public init(networkID: Digest32) { self.networkID = networkID }
    }

    public enum Outcome: Sendable {
        case accepted(Inbound)
        /// Dropped before the sender was authenticated: nobody to blame.
        case dropped(DropReason)
        /// Validly signed but unusable: evidence against `sender`.
        case rejected(DropReason, sender: PublicKey)
    }

    public let config: Config
    private var sources: TokenBucketTable<[UInt8]>
    private var prefixes: TokenBucketTable<[UInt8]>
    private var replay: ReplayGuard

    public init(config: Config) {
        self.config = config
        sources = TokenBucketTable(config: config.sourceLimit)
        prefixes = TokenBucketTable(config: config.prefixLimit)
        replay = ReplayGuard(config: config.replay)
    }

    public var trackedSources: Int { sources.count }
    public var trackedPrefixes: Int { prefixes.count }
    public var trackedSenders: Int { replay.senderCount }

    /// `maxSize` overrides the datagram limit for envelopes that arrived as stream frames.
    /// `worthVerifying` sees a decoded message before its signature is checked: when it says no,
    /// the envelope is dropped as `.unwanted` (nothing recorded), saving the check's cost for
    /// messages the node could only ignore. The sender is unproven: it may act only on what a
    /// message proves by itself (a DHT value that hashes to the key asked for), never on who sent it.
    public mutating func receive(_ bytes: ByteBuffer, from source: PeerAddress, nowMs: UInt64,
                                 maxSize: Int? = nil,
                                 worthVerifying: (PublicKey, Message) -> Bool = { _, _ in true }) -> Outcome {
        let size = bytes.readableBytes
        if size > (maxSize ?? config.maxSize) { return .dropped(.tooLarge) }
        if size < Envelope.overhead { return .dropped(.tooShort) }
        guard Envelope.networkID(of: bytes) == config.networkID.bytes else {
            // Tell a peer on another network apart from noise: only a well-formed header says "wrong network".
            switch Result(catching: { () throws(EnvelopeError) in try Envelope.parse(bytes) }) {
            case .success: return .dropped(.wrongNetwork)
            case .failure(let error): return .dropped(Self.reason(error))
            }
        }
        guard sources.allow(source.hostBytes, nowMs: nowMs) else { return .dropped(.rateLimited) }
        guard prefixes.allow(source.limitPrefix, nowMs: nowMs) else { return .dropped(.prefixRateLimited) }
        let envelope: Envelope
        do { envelope = try Envelope.parse(bytes) } catch { return .dropped(Self.reason(error)) }
        switch replay.check(sender: envelope.sender, sequence: envelope.sequence,
                            timestamp: envelope.timestamp, nowMs: nowMs) {
        case .fresh: break
        case .replayed: return .dropped(.replayed)
        case .stale: return .dropped(.stale)
        case .clockSkew: return .dropped(.clockSkew)
        case .tableFull: return .dropped(.replayTableFull)
        }
        // Decoded once, before the signature check, so `worthVerifying` can judge the message; a
        // payload that does not decode is still checked, then rejected as malformed.
        let decoded = Self.decode(envelope)
        if case let .success(message) = decoded, !worthVerifying(envelope.sender, message) {
            return .dropped(.unwanted)
        }
        guard envelope.hasValidSignature(in: bytes) else { return .dropped(.badSignature) }
        let storedKey = replay.record(sender: envelope.sender, sequence: envelope.sequence,
                                      timestamp: envelope.timestamp, nowMs: nowMs)
        // The replay table's copy of the key, so tables keyed by this peer share one buffer.
        let shared = storedKey.map(envelope.sharing(sender:)) ?? envelope
        switch decoded {
        case let .success(message): return .accepted(Inbound(envelope: shared, message: message, source: source))
        case .failure(.unknownKind): return .rejected(.unknownKind, sender: envelope.sender)
        case .failure: return .rejected(.malformedPayload, sender: envelope.sender)
        }
    }

    static func decode(_ envelope: Envelope) -> Result<Message, WireError> {
        Result { () throws(WireError) in try Message.decode(kind: envelope.kind, payload: envelope.payload) }
    }

    static func reason(_ error: EnvelopeError) -> DropReason {
        switch error {
        case .tooShort: return .tooShort
        case .badMagic: return .badMagic
        case .badVersion: return .badVersion
        case .lengthMismatch: return .malformedEnvelope
        }
    }
}

/// An authenticated, decoded message and where it came from.
public struct Inbound: Sendable {
    public let envelope: Envelope
    public let message: Message
    public let source: PeerAddress

    public init(envelope: Envelope, message: Message, source: PeerAddress) {
        self.envelope = envelope
        self.message = message
        self.source = source
    }

    public var sender: PublicKey { envelope.sender }
}
