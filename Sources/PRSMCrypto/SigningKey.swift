import CSodium

/// An Ed25519 signing key. The 64-byte libsodium secret (seed || public key) lives in memory
/// this type owns and wipes with `sodium_memzero` when the last copy goes away.
public struct SigningKey: Sendable {
    public static let seedSize = 32

    private let secret: SecretBox
    public let publicKey: PublicKey

    /// Deterministic key from a 32-byte seed (key files store the seed).
    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == Self.seedSize else {
            throw .invalidLength(what: "key seed", expected: Self.seedSize, actual: seed.count)
        }
        Sodium.ensureReady()
        let box = SecretBox(count: Int(crypto_sign_SECRETKEYBYTES))
        var publicBytes = [UInt8](repeating: 0, count: PublicKey.size)
        seed.withUnsafeBufferPointer { seedPtr in
            _ = crypto_sign_seed_keypair(&publicBytes, box.pointer, seedPtr.baseAddress!)
        }
        secret = box
        publicKey = try PublicKey(publicBytes)
    }

    /// A fresh key from the operating system's CSPRNG.
    public static func generate() -> SigningKey {
        var seed = SecureRandom.bytes(seedSize)
        defer { sodium_memzero(&seed, seed.count) }
        // A 32-byte seed is always accepted.
        return try! SigningKey(seed: seed)
    }

    /// The 32-byte seed, for writing the key file. Callers must not log or keep it.
    public func exportSeed() -> [UInt8] {
        Array(UnsafeBufferPointer(start: secret.pointer, count: Self.seedSize))
    }

    public func sign<Message: ContiguousBytes>(_ message: Message) -> Signature {
        var out = [UInt8](repeating: 0, count: Signature.size)
        message.withUnsafeBytes { raw in
            _ = crypto_sign_detached(&out, nil, raw.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                     UInt64(raw.count), secret.pointer)
        }
        return try! Signature(out)
    }

    public var nodeID: NodeID { publicKey.nodeID }
}

/// Owns secret bytes; immutable after creation, wiped on deinit.
private final class SecretBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit {
        sodium_memzero(pointer, count)
        pointer.deallocate()
    }
}
