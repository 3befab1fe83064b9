import NIOCore
import Testing
@testable import PRSMWire

/// Keys, network and helpers shared by the wire tests. The keys are the documented test-vector
/// keys (docs/PROTOCOL.md), so failures print values a reader can cross-check.
enum Fixture {
    static let keyA = try! SigningKey(seed: Blake2b.hash256(Array("prsm-test-vector-key".utf8)).bytes)
    static let keyB = try! SigningKey(seed: Blake2b.hash256(Array("prsm-test-vector-responder".utf8)).bytes)
    static let network = Devnet.genesis.networkID
    static let otherNetwork = Blake2b.hash256(Array("some other network".utf8))
    /// 2026-01-01T00:00:00Z in unix milliseconds.
    static let t0: UInt64 = 1_767_225_600_000
    static let source = PeerAddress.ipv4(127, 0, 0, 1, port: 7700)
    static let otherSource = PeerAddress.ipv4(127, 0, 1, 1, port: 7700)

    /// A distinct key per index, for tests that need many senders.
    static func key(_ index: Int) -> SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-wire-test-key-\(index)".utf8)).bytes)
    }

    /// A distinct public key per index without deriving a key pair (cheap, for table bounds).
    static func publicKey(_ index: Int) -> PublicKey {
        try! PublicKey(Blake2b.hash256(Array("prsm-wire-test-public-\(index)".utf8)).bytes)
    }

    static func sequence(_ ms: UInt64, _ counter: UInt64) -> UInt64 { ms << 16 | counter }

    static func seal(
        _ message: Message = .ping(Ping(nonce: 42)), key: SigningKey = keyA, counter: UInt64 = 1,
        timestamp: UInt64 = t0, network: Digest32 = network
    ) -> ByteBuffer {
        Envelope.seal(message, networkID: network, key: key,
                      sequence: sequence(timestamp, counter), timestamp: timestamp)
    }

    static func sealRaw(
        kind: UInt16, payload: [UInt8], key: SigningKey = keyA, counter: UInt64 = 1,
        timestamp: UInt64 = t0, network: Digest32 = network
    ) -> ByteBuffer {
        Envelope.seal(kind: kind, payload: ByteBuffer(bytes: payload), networkID: network, key: key,
                      sequence: sequence(timestamp, counter), timestamp: timestamp)
    }
}

func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

/// A copy of `buffer` with the byte at `index` (relative to the reader index) XORed with `mask`.
func flipped(_ buffer: ByteBuffer, at index: Int, mask: UInt8 = 0x01) -> ByteBuffer {
    var raw = bytes(buffer)
    raw[index] ^= mask
    return ByteBuffer(bytes: raw)
}

/// The bytes of a buffer with `value` written big-endian at `index`.
func patched<T: FixedWidthInteger>(_ buffer: ByteBuffer, at index: Int, _ value: T) -> ByteBuffer {
    var copy = ByteBuffer(bytes: bytes(buffer))
    copy.setInteger(value, at: index, endianness: .big)
    return copy
}

/// Decodes a payload and returns the error, or nil if it decoded.
func decodeError(_ kind: UInt16, _ payload: [UInt8]) -> WireError? {
    do {
        _ = try Message.decode(kind: kind, payload: ByteBuffer(bytes: payload))
        return nil
    } catch {
        return error
    }
}

func encoded(_ message: Message) -> [UInt8] { bytes(message.encodePayload()) }

extension WireError {
    /// The case without its associated values, for asserting which rule rejected the bytes.
    enum Category: Equatable { case truncated, trailingBytes, overLimit, nonCanonical, unknownKind, invalidGenesis }

    var category: Category {
        switch self {
        case .truncated: return .truncated
        case .trailingBytes: return .trailingBytes
        case .overLimit: return .overLimit
        case .nonCanonical: return .nonCanonical
        case .unknownKind: return .unknownKind
        case .invalidGenesis: return .invalidGenesis
        }
    }
}

/// A pipeline outcome reduced to something `#expect(==)` can compare and print.
enum Verdict: Equatable, CustomStringConvertible {
    case accepted(Message, sender: PublicKey)
    case dropped(DropReason)
    case rejected(DropReason, sender: PublicKey)

    init(_ outcome: ReceivePipeline.Outcome) {
        switch outcome {
        case let .accepted(inbound): self = .accepted(inbound.message, sender: inbound.sender)
        case let .dropped(reason): self = .dropped(reason)
        case let .rejected(reason, sender): self = .rejected(reason, sender: sender)
        }
    }

    var isAccepted: Bool { if case .accepted = self { true } else { false } }

    var description: String {
        switch self {
        case let .accepted(message, sender): return "accepted(\(message) from \(sender))"
        case let .dropped(reason): return "dropped(\(reason.rawValue))"
        case let .rejected(reason, sender): return "rejected(\(reason.rawValue) from \(sender))"
        }
    }
}

// `#expect` cannot call a mutating method, so the stateful types are driven through these
// small reference wrappers.

/// A receive pipeline for tests: `verdict` feeds bytes and reduces the outcome.
final class Receiver {
    var pipeline: ReceivePipeline

    init(network: Digest32 = Fixture.network) {
        pipeline = ReceivePipeline(config: ReceivePipeline.Config(networkID: network))
    }

    init(config: ReceivePipeline.Config) { pipeline = ReceivePipeline(config: config) }

    func receive(_ bytes: ByteBuffer, from source: PeerAddress = Fixture.source, nowMs: UInt64 = Fixture.t0,
                 worthVerifying: (PublicKey, Message) -> Bool = { _, _ in true }) -> ReceivePipeline.Outcome {
        pipeline.receive(bytes, from: source, nowMs: nowMs, worthVerifying: worthVerifying)
    }

    func verdict(_ bytes: ByteBuffer, from source: PeerAddress = Fixture.source, nowMs: UInt64 = Fixture.t0,
                 worthVerifying: (PublicKey, Message) -> Bool = { _, _ in true }) -> Verdict {
        Verdict(receive(bytes, from: source, nowMs: nowMs, worthVerifying: worthVerifying))
    }

    var trackedSenders: Int { pipeline.trackedSenders }
    var trackedSources: Int { pipeline.trackedSources }
}

final class Buckets<Key: Hashable & Sendable> {
    var table: TokenBucketTable<Key>

    init(perSecond: UInt64, burst: UInt64, maxEntries: Int) {
        table = TokenBucketTable(config: .init(perSecond: perSecond, burst: burst, maxEntries: maxEntries))
    }

    func allow(_ key: Key, nowMs: UInt64) -> Bool { table.allow(key, nowMs: nowMs) }
    var count: Int { table.count }
}

final class Replay {
    var state: ReplayGuard

    init(maxSenders: Int = 16_384, windowSize: Int = 64) {
        var config = ReplayGuard.Config()
        config.maxSenders = maxSenders
        config.windowSize = windowSize
        state = ReplayGuard(config: config)
    }

    func check(_ sender: PublicKey, _ sequence: UInt64, timestamp: UInt64, now: UInt64) -> ReplayGuard.Verdict {
        state.check(sender: sender, sequence: sequence, timestamp: timestamp, nowMs: now)
    }

    /// check, then record when fresh: what the pipeline does for a validly signed envelope.
    func admit(_ sender: PublicKey, _ sequence: UInt64, timestamp: UInt64, now: UInt64) -> ReplayGuard.Verdict {
        let verdict = check(sender, sequence, timestamp: timestamp, now: now)
        if verdict == .fresh { state.record(sender: sender, sequence: sequence, timestamp: timestamp, nowMs: now) }
        return verdict
    }

    var senderCount: Int { state.senderCount }
}

/// Every proper prefix of `message`'s payload must be refused as truncated (never trap).
func expectEveryPrefixTruncated(_ message: Message, sourceLocation: SourceLocation = #_sourceLocation) {
    let payload = encoded(message)
    for length in 0..<payload.count {
        let error = decodeError(message.kind.rawValue, Array(payload[..<length]))
        #expect(error?.category == .truncated, "prefix of \(length) of \(payload.count) bytes gave \(String(describing: error))",
                sourceLocation: sourceLocation)
    }
}
