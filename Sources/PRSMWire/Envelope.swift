import NIOCore

/// The signed envelope every message travels in (byte layout in docs/PROTOCOL.md):
///
///     offset size field
///          0    4 magic "PRSM"
///          4    1 version (1)
///          5   32 network id
///         37    2 kind
///         39   32 sender Ed25519 public key
///         71    8 sequence (unix ms << 16 | counter)
///         79    8 timestamp (unix ms)
///         87    4 payload length n
///         91    n payload
///     91 + n   64 Ed25519 signature over bytes [0, 91 + n)
public struct Envelope: Hashable, Sendable {
    public static let magic: [UInt8] = Array("PRSM".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 91
    public static let overhead = headerSize + Signature.size
    /// Largest datagram a node sends or accepts over UDP (fits an IPv6 minimum MTU path).
    public static let maxDatagramSize = 1200
    /// Largest length-prefixed envelope accepted on a TCP stream.
    public static let maxFrameSize = 4 * 1024 * 1024

    public let networkID: Digest32
    public let kind: UInt16
    public let sender: PublicKey
    public let sequence: UInt64
    public let timestamp: UInt64
    public let payload: ByteBuffer
    public let signature: Signature

    /// Encodes and signs in one buffer: the signature covers exactly the bytes written before it.
    public static func seal(
        kind: UInt16, payload: ByteBuffer, networkID: Digest32, key: SigningKey,
        sequence: UInt64, timestamp: UInt64
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(overhead + payload.readableBytes)
        buffer.writeBytes(magic)
        buffer.writeInteger(version)
        buffer.writeBytes(networkID.bytes)
        buffer.writeInteger(kind, endianness: .big)
        buffer.writeBytes(key.publicKey.bytes)
        buffer.writeInteger(sequence, endianness: .big)
        buffer.writeInteger(timestamp, endianness: .big)
        buffer.writeInteger(UInt32(payload.readableBytes), endianness: .big)
        buffer.writeImmutableBuffer(payload)
        let signature = buffer.withUnsafeReadableBytes { key.sign($0) }
        buffer.writeBytes(signature.bytes)
        return buffer
    }

    public static func seal(
        _ message: Message, networkID: Digest32, key: SigningKey, sequence: UInt64, timestamp: UInt64
    ) -> ByteBuffer {
        seal(kind: message.kind.rawValue, payload: message.encodePayload(), networkID: networkID,
             key: key, sequence: sequence, timestamp: timestamp)
    }

    /// Parses the layout only (no signature check): magic, version, and a payload length that
    /// matches the buffer exactly. The signature is checked by `hasValidSignature(in:)`.
    public static func parse(_ buffer: ByteBuffer) throws(EnvelopeError) -> Envelope {
        let total = buffer.readableBytes
        guard total >= overhead else { throw .tooShort }
        let start = buffer.readerIndex
        guard buffer.getBytes(at: start, length: 4) == magic else { throw .badMagic }
        guard buffer.getInteger(at: start + 4, as: UInt8.self) == version else { throw .badVersion }
        let network = buffer.getBytes(at: start + 5, length: 32)!
        let kind = buffer.getInteger(at: start + 37, endianness: .big, as: UInt16.self)!
        let sender = buffer.getBytes(at: start + 39, length: 32)!
        let sequence = buffer.getInteger(at: start + 71, endianness: .big, as: UInt64.self)!
        let timestamp = buffer.getInteger(at: start + 79, endianness: .big, as: UInt64.self)!
        let length = Int(buffer.getInteger(at: start + 87, endianness: .big, as: UInt32.self)!)
        guard length == total - overhead else { throw .lengthMismatch }
        let payload = buffer.getSlice(at: start + headerSize, length: length)!
        let signature = buffer.getBytes(at: start + headerSize + length, length: Signature.size)!
        return Envelope(
            networkID: try! Digest32(network), kind: kind, sender: try! PublicKey(sender),
            sequence: sequence, timestamp: timestamp, payload: payload, signature: try! Signature(signature))
    }

    /// This envelope naming `sender`, an equal key whose storage other tables already share.
    func sharing(sender: PublicKey) -> Envelope {
        precondition(sender == self.sender, "only an equal key may replace an envelope's sender")
        return Envelope(networkID: networkID, kind: kind, sender: sender, sequence: sequence, timestamp: timestamp,
                        payload: payload, signature: signature)
    }

    /// Reads only the network id, so wrong-network traffic is dropped before any other work.
    public static func networkID(of buffer: ByteBuffer) -> [UInt8]? {
        buffer.getBytes(at: buffer.readerIndex + 5, length: 32)
    }

    /// Verifies the signature over the envelope's own bytes (everything before the signature).
    public func hasValidSignature(in buffer: ByteBuffer) -> Bool {
        let signed = buffer.readableBytes - Signature.size
        return buffer.withUnsafeReadableBytes { raw in
            sender.isValidSignature(signature, for: UnsafeRawBufferPointer(rebasing: raw[..<signed]))
        }
    }
}

/// Structural failures of an envelope, before any cryptography.
public enum EnvelopeError: Error, Equatable, Sendable {
    case tooShort, badMagic, badVersion, lengthMismatch
}
