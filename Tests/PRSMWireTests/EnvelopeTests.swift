import NIOCore
import Testing
@testable import PRSMWire

struct EnvelopeTests {
    static let payload: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x01]
    static let sequence: UInt64 = 0x0123_4567_89ab_cdef
    static let timestamp: UInt64 = 0x0000_019b_76da_a800

    static func sealed(_ payload: [UInt8] = payload) -> ByteBuffer {
        Envelope.seal(kind: 0x0102, payload: ByteBuffer(bytes: payload), networkID: Fixture.network,
                      key: Fixture.keyA, sequence: sequence, timestamp: timestamp)
    }

    @Test func sealThenParseRoundTrips() throws {
        let buffer = Self.sealed()
        #expect(buffer.readableBytes == Envelope.overhead + Self.payload.count)
        let envelope = try Envelope.parse(buffer)
        #expect(envelope.networkID == Fixture.network)
        #expect(envelope.kind == 0x0102)
        #expect(envelope.sender == Fixture.keyA.publicKey)
        #expect(envelope.sequence == Self.sequence)
        #expect(envelope.timestamp == Self.timestamp)
        #expect(bytes(envelope.payload) == Self.payload)
        #expect(envelope.hasValidSignature(in: buffer))
    }

    @Test func headerFieldsSitAtTheDocumentedOffsets() {
        #expect(Envelope.headerSize == 91)
        #expect(Envelope.overhead == 155)
        let raw = bytes(Self.sealed())
        let n = Self.payload.count
        #expect(Array(raw[0..<4]) == Array("PRSM".utf8))
        #expect(raw[4] == 1)
        #expect(Array(raw[5..<37]) == Fixture.network.bytes)
        #expect(Array(raw[37..<39]) == [0x01, 0x02])
        #expect(Array(raw[39..<71]) == Fixture.keyA.publicKey.bytes)
        #expect(Array(raw[71..<79]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
        #expect(Array(raw[79..<87]) == [0x00, 0x00, 0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00])
        #expect(Array(raw[87..<91]) == [0, 0, 0, UInt8(n)])
        #expect(Array(raw[91..<91 + n]) == Self.payload)
        // Ed25519 is deterministic: the signature is exactly the signature of bytes [0, 91 + n).
        #expect(Array(raw[(91 + n)...]) == Fixture.keyA.sign(Array(raw[..<(91 + n)])).bytes)
    }

    @Test func emptyPayloadIsTheSmallestEnvelope() throws {
        let buffer = Self.sealed([])
        #expect(buffer.readableBytes == 155)
        let envelope = try Envelope.parse(buffer)
        #expect(envelope.payload.readableBytes == 0)
        #expect(envelope.hasValidSignature(in: buffer))
    }

    /// Flipping any byte of the signed region or of the signature breaks the signature. Where
    /// the flip still parses, the envelope is parsed from the tampered bytes (so a flipped sender
    /// key is used as the key); otherwise the original header is checked against the tampered bytes.
    @Test(arguments: [0, 3, 4, 5, 20, 36, 37, 38, 39, 50, 70, 71, 78, 79, 86, 87, 90, 91, 95,
                      96, 110, 127, 128, 159])
    func flippingAnyByteInvalidatesTheSignature(position: Int) throws {
        let buffer = Self.sealed()
        #expect(buffer.readableBytes == 160)
        let original = try Envelope.parse(buffer)
        for mask: UInt8 in [0x01, 0x80] {
            let tampered = flipped(buffer, at: position, mask: mask)
            let envelope = (try? Envelope.parse(tampered)) ?? original
            #expect(!envelope.hasValidSignature(in: tampered), "position \(position) mask \(mask)")
        }
    }

    @Test func offsetsAreRelativeToTheReaderIndex() throws {
        // A TCP frame: u32 length, then the envelope. Parsing after reading the prefix must work.
        let envelope = Self.sealed()
        var frame = ByteBuffer()
        frame.writeInteger(UInt32(envelope.readableBytes), endianness: .big)
        frame.writeImmutableBuffer(envelope)
        #expect(frame.readInteger(endianness: .big, as: UInt32.self) == 160)
        let parsed = try Envelope.parse(frame)
        #expect(Envelope.networkID(of: frame) == Fixture.network.bytes)
        #expect(bytes(parsed.payload) == Self.payload)
        #expect(parsed.hasValidSignature(in: frame))
    }

    @Test(arguments: [0, 1, 91, 154])
    func shorterThanTheOverheadIsTooShort(length: Int) {
        let raw = Array(bytes(Self.sealed([])).prefix(length))
        #expect(throws: EnvelopeError.tooShort) { try Envelope.parse(ByteBuffer(bytes: raw)) }
    }

    @Test func badMagicAndVersionAreRefused() {
        let buffer = Self.sealed()
        #expect(throws: EnvelopeError.badMagic) { try Envelope.parse(flipped(buffer, at: 0)) }
        #expect(throws: EnvelopeError.badMagic) { try Envelope.parse(flipped(buffer, at: 3)) }
        #expect(throws: EnvelopeError.badVersion) { try Envelope.parse(patched(buffer, at: 4, UInt8(2))) }
        #expect(throws: EnvelopeError.badVersion) { try Envelope.parse(patched(buffer, at: 4, UInt8(0))) }
    }

    @Test func payloadLengthMustMatchTheBufferExactly() {
        let buffer = Self.sealed()
        let n = UInt32(Self.payload.count)
        #expect(throws: EnvelopeError.lengthMismatch) { try Envelope.parse(patched(buffer, at: 87, n + 1)) }
        #expect(throws: EnvelopeError.lengthMismatch) { try Envelope.parse(patched(buffer, at: 87, n - 1)) }
        #expect(throws: EnvelopeError.lengthMismatch) { try Envelope.parse(patched(buffer, at: 87, UInt32.max)) }
        #expect(throws: EnvelopeError.lengthMismatch) { try Envelope.parse(ByteBuffer(bytes: bytes(buffer) + [0])) }
        #expect(throws: EnvelopeError.lengthMismatch) { try Envelope.parse(ByteBuffer(bytes: bytes(buffer).dropLast())) }
    }
}
