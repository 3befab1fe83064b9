import PRSMWire

/// Address tokens for anti-amplification and STORE admission (as BEP 5 and discv5 do): a node
/// hands a requester a token bound to the address it saw the request come from, and later accepts
/// a STORE (or a large reply) only when the request carries a token for its own source address.
/// A requester that spoofs its source address never sees the token.
///
/// token = keyed BLAKE2b with a `DHTLimits.tokenSize` (16) byte output, key = secret,
///         message = epoch u64 big-endian || canonical `PeerAddress` encoding,
/// with epoch = nowMs / rotationMs. A token is valid in the epoch it was minted and the next one,
/// so it lives between one and two rotation periods.
///
/// Pure: the secret comes from the caller (32 bytes from the node's CSPRNG), time is passed in.
public struct AddressTokens: Sendable {
    public static let secretSize = 32

    private let secret: [UInt8]
    public let rotationMs: UInt64

    /// - Parameters:
    ///   - secret: exactly 32 random bytes (a programmer error otherwise).
    ///   - rotationMs: epoch length; must be positive.
    public init(secret: [UInt8], rotationMs: UInt64 = 300_000) {
        precondition(secret.count == Self.secretSize, "address token secret must be 32 bytes, got \(secret.count)")
        precondition(rotationMs > 0, "address token rotation must be positive")
        self.secret = secret
        self.rotationMs = rotationMs
    }

    /// The token for `address` in the epoch containing `nowMs`; `DHTLimits.tokenSize` bytes.
    public func mint(for address: PeerAddress, nowMs: UInt64) -> [UInt8] {
        token(for: address, epoch: nowMs / rotationMs)
    }

    /// Whether `token` was minted for exactly `address` (host and port) in the current epoch or
    /// the previous one. Empty and wrong-length tokens are invalid. Comparison is constant time.
    public func isValid(_ token: [UInt8], for address: PeerAddress, nowMs: UInt64) -> Bool {
        guard token.count == DHTLimits.tokenSize else { return false }
        let epoch = nowMs / rotationMs
        let current = Self.constantTimeEqual(token, self.token(for: address, epoch: epoch))
        // Both comparisons always run; which epoch matched is not secret.
        let previous = epoch > 0 && Self.constantTimeEqual(token, self.token(for: address, epoch: epoch - 1))
        return current || previous
    }

    func token(for address: PeerAddress, epoch: UInt64) -> [UInt8] {
        var writer = WireWriter()
        writer.u64(epoch)
        address.encode(into: &writer)
        // BLAKE2b's output length is a parameter: a 16-byte output, not a truncated longer one.
        return Blake2b.keyedHash(key: secret, message: writer.bytesWritten, outputSize: DHTLimits.tokenSize)
    }

    /// Equal-length comparison without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
