/// A client's signed transaction: the sender's account key, its per-sender nonce, and an opaque
/// payload the application interprets. Signed over the network id too, so a transaction can never
/// be replayed on another network. Identified by the BLAKE2b-256 of its encoding.
public struct Transaction: Hashable, Sendable {
    /// Payloads above this are refused by the codec (the ledger's transfers are far smaller).
    public static let maxPayload = 4_096
    /// Encoded size without the payload: key 32, nonce 8, payload length 4, signature 64.
    public static let overhead = 108

    public let sender: PublicKey
    public let nonce: UInt64
    public let payload: [UInt8]
    public let signature: Signature
    public let hash: Digest32

    public init(sender: PublicKey, nonce: UInt64, payload: [UInt8], signature: Signature) {
        self.sender = sender
        self.nonce = nonce
        self.payload = payload
        self.signature = signature
        var writer = WireWriter()
        Self.write(sender: sender, nonce: nonce, payload: payload, signature: signature, into: &writer)
        hash = Blake2b.hash256(writer.bytesWritten)
    }

    /// Signs a transaction for `networkID` with the sender's account key.
    public static func signed(by key: SigningKey, networkID: Digest32, nonce: UInt64, payload: [UInt8]) -> Transaction {
        let signature = key.sign(signingBytes(networkID: networkID, sender: key.publicKey, nonce: nonce, payload: payload))
        return Transaction(sender: key.publicKey, nonce: nonce, payload: payload, signature: signature)
    }

    public static func signingBytes(networkID: Digest32, sender: PublicKey, nonce: UInt64, payload: [UInt8]) -> [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("prsm-tx".utf8))
        writer.fixed(networkID.bytes)
        writer.fixed(sender.bytes)
        writer.u64(nonce)
        writer.bytes(payload)
        return writer.bytesWritten
    }

    public func isValidSignature(networkID: Digest32) -> Bool {
        sender.isValidSignature(signature, for: Self.signingBytes(networkID: networkID, sender: sender, nonce: nonce,
                                                                  payload: payload))
    }

    public var encodedSize: Int { Self.overhead + payload.count }

    public func encode(into writer: inout WireWriter) {
        Self.write(sender: sender, nonce: nonce, payload: payload, signature: signature, into: &writer)
    }

    private static func write(sender: PublicKey, nonce: UInt64, payload: [UInt8], signature: Signature,
                              into writer: inout WireWriter) {
        writer.fixed(sender.bytes)
        writer.u64(nonce)
        writer.bytes(payload)
        writer.fixed(signature.bytes)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Transaction {
        let sender = try PublicKey.decode(from: &reader, "transaction sender")
        let nonce = try reader.u64("transaction nonce")
        let payload = try reader.bytes("transaction payload", limit: maxPayload)
        let signature = try Signature.decode(from: &reader, "transaction signature")
        return Transaction(sender: sender, nonce: nonce, payload: payload, signature: signature)
    }
}
