import CSodium

/// An Ed25519 public key. Verification uses libsodium's rules (see docs/PROTOCOL.md):
/// canonical S, canonical non-small-order public key and R.
public struct PublicKey: Hashable, Sendable, Comparable, CustomStringConvertible, ContiguousBytes {
    public static let size = 32
    /// An array on purpose, unlike `Digest32`: the receive pipeline hands every table keyed by a
    /// peer the replay window's copy of its key, so they share one buffer at 8 bytes a reference.
    /// Held inline (`Bytes32`), each table entry carried all 32 bytes, and a simulated node's
    /// memory grew (`bench dht`, 1,000 nodes: 260,132 -> 291,680 B per node).
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Self.size else {
            throw .invalidLength(what: "public key", expected: Self.size, actual: bytes.count)
        }
        self.bytes = bytes
    }

    public init(hex: String) throws(CryptoError) { try self.init(try Hex.decode(hex)) }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { String(hex.prefix(16)) }

    /// The node identity derived from this key: BLAKE2b-256(public key).
    public var nodeID: NodeID { NodeID(digest: Blake2b.hash256(bytes)) }

    public func isValidSignature<Message: ContiguousBytes>(_ signature: Signature, for message: Message) -> Bool {
        Sodium.ensureReady()
        return message.withUnsafeBytes { raw in
            crypto_sign_verify_detached(signature.bytes, raw.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                        UInt64(raw.count), bytes) == 0
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
