import NIOCore
import Testing
@testable import PRSMWire

/// HelloReply (0x0004) and the dial-back messages (0x0005–0x0007): round trips, rejections and
/// sizes (docs/PROTOCOL.md sections 12 and 13).
struct HandshakeCodecTests {
    static let v4 = PeerAddress.ipv4(198, 51, 100, 23, port: 40_000)
    static let v6 = PeerAddress(host: .v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42]), port: 7700)
    static let wideV6 = PeerAddress(host: .v6([UInt8](repeating: 0xfe, count: 16)), port: 65535)

    static func hello(_ addresses: [PeerAddress] = [.ipv4(10, 0, 0, 1, port: 7700)], roles: Roles = .provider) -> Hello {
        Hello(version: 1, networkID: Fixture.network, listenAddresses: addresses, roles: roles)
    }

    static let samples: [Message] = [
        .helloReply(HelloReply(hello: hello(), observedAddress: v4)),
        .helloReply(HelloReply(hello: hello([v4, v6], roles: [.validator, .client]), observedAddress: v6)),
        .helloReply(HelloReply(hello: hello([]), observedAddress: v4)),
        .dialBack(.request(nonce: 0x0102_0304_0506_0708)),
        .dialBack(.relay(nonce: 0x0102_0304_0506_0708, target: v4)),
        .dialBack(.relay(nonce: .max, target: v6)),
        .dialBack(.relayed(nonce: 9, via: v4)),
        .dialBack(.probe(nonce: 0x0102_0304_0506_0708)),
    ]

    @Test(arguments: 0..<samples.count)
    func roundTripsThroughPayload(sample: Int) throws {
        let message = Self.samples[sample]
        #expect(try Message.decode(kind: message.kind.rawValue, payload: message.encodePayload()) == message)
    }

    @Test(arguments: 0..<samples.count)
    func roundTripsThroughASealedEnvelope(sample: Int) throws {
        let message = Self.samples[sample]
        let buffer = Fixture.seal(message)
        let envelope = try Envelope.parse(buffer)
        #expect(envelope.kind == message.kind.rawValue)
        #expect(envelope.hasValidSignature(in: buffer))
        #expect(try Message.decode(kind: envelope.kind, payload: envelope.payload) == message)
        #expect(Receiver().verdict(buffer) == .accepted(message, sender: Fixture.keyA.publicKey))
    }

    @Test func kindsAreTheDocumentedOnes() {
        #expect(MessageKind.helloReply.rawValue == 0x0004)
        #expect(Message.dialBack(.request(nonce: 1)).kind.rawValue == 0x0005)
        #expect(Message.dialBack(.relay(nonce: 1, target: Self.v4)).kind.rawValue == 0x0006)
        #expect(Message.dialBack(.probe(nonce: 1)).kind.rawValue == 0x0007)
        #expect(Message.dialBack(.relayed(nonce: 1, via: Self.v4)).kind.rawValue == 0x0008)
        #expect(MessageKind.allCases.filter { $0.rawValue >> 8 == 0x00 }.map(\.rawValue) == Array(0x0001...0x0008))
        #expect(MessageKind.allCases.allSatisfy { $0.rawValue >> 8 <= 0x02 })
    }

    // MARK: byte layout

    @Test func helloReplyIsTheHelloThenTheObservedAddress() {
        let hello = Self.hello([Self.v6, Self.v4], roles: [.validator, .client])
        let payload = encoded(.helloReply(HelloReply(hello: hello, observedAddress: Self.v4)))
        let helloBytes = encoded(.hello(hello))
        #expect(Array(payload[..<helloBytes.count]) == helloBytes)
        #expect(Array(payload[helloBytes.count...]) == [4, 198, 51, 100, 23, 0x9c, 0x40])
        #expect(payload.count == 39 + 7 + 19 + 7)
    }

    @Test func dialBackLayouts() {
        let nonce: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(encoded(.dialBack(.request(nonce: 0x0102_0304_0506_0708))) == nonce)
        #expect(encoded(.dialBack(.probe(nonce: 0x0102_0304_0506_0708))) == nonce)
        #expect(encoded(.dialBack(.relay(nonce: 0x0102_0304_0506_0708, target: Self.v4)))
                == nonce + [4, 198, 51, 100, 23, 0x9c, 0x40])
        let relay6 = encoded(.dialBack(.relay(nonce: 0x0102_0304_0506_0708, target: Self.v6)))
        #expect(relay6.count == 8 + 19)
        #expect(relay6[8] == 6)
        #expect(Array(relay6[9..<25]) == Self.v6.hostBytes)
    }

    // MARK: rejections

    @Test(arguments: 0..<samples.count)
    func everyProperPrefixIsTruncated(sample: Int) {
        expectEveryPrefixTruncated(Self.samples[sample])
    }

    @Test(arguments: 0..<samples.count)
    func trailingBytesAreRefused(sample: Int) {
        let message = Self.samples[sample]
        #expect(decodeError(message.kind.rawValue, encoded(message) + [0]) == .trailingBytes(1))
        #expect(decodeError(message.kind.rawValue, encoded(message) + [1, 2, 3]) == .trailingBytes(3))
    }

    @Test func helloReplyRefusesWhatHelloRefuses() {
        // Unknown role bit in the embedded Hello (its last byte, before the observed address).
        var roles = encoded(Self.samples[0])
        roles[roles.count - 8] = 0x08
        #expect(decodeError(0x0004, roles) == .nonCanonical("unknown role bits"))
        // Unsorted listen addresses, written by hand (Hello.init sorts).
        var writer = WireWriter()
        writer.u16(1)
        writer.fixed(Fixture.network.bytes)
        writer.array([Self.v6, Self.v4]) { $1.encode(into: &$0) }
        writer.u8(1)
        Self.v4.encode(into: &writer)
        #expect(decodeError(0x0004, writer.bytesWritten) == .nonCanonical("listen addresses not strictly sorted"))
        // Nine listen addresses.
        let nine = (1...9).map { PeerAddress.ipv4(10, 0, 0, UInt8($0), port: 1) }
        let over = encoded(.helloReply(HelloReply(hello: Self.hello(nine), observedAddress: Self.v4)))
        #expect(decodeError(0x0004, over) == .overLimit("listen addresses", length: 9, limit: 8))
    }

    @Test func observedAndTargetAddressesMustBeCanonical() {
        let mapped = PeerAddress(host: .v6([UInt8](repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1]), port: 1)
        #expect(decodeError(0x0004, encoded(.helloReply(HelloReply(hello: Self.hello(), observedAddress: mapped))))
                == .nonCanonical("IPv4-mapped IPv6 address"))
        #expect(decodeError(0x0006, encoded(.dialBack(.relay(nonce: 1, target: mapped))))
                == .nonCanonical("IPv4-mapped IPv6 address"))
        var family = encoded(.dialBack(.relay(nonce: 1, target: Self.v4)))
        family[8] = 5
        #expect(decodeError(0x0006, family) == .nonCanonical("address family 5"))
    }

    @Test func requestAndProbeCarryOnlyANonce() {
        // A relay's payload is not a valid request or probe: the target is trailing bytes there.
        let relay = encoded(.dialBack(.relay(nonce: 1, target: Self.v4)))
        #expect(decodeError(0x0005, relay) == .trailingBytes(7))
        #expect(decodeError(0x0007, relay) == .trailingBytes(7))
    }

    // MARK: sizes

    /// Any HelloReply is within 3× of any Hello, so answering a Hello needs no token.
    @Test func largestHelloReplyIsWithinThreeTimesTheSmallestHello() {
        let smallest = Fixture.seal(.hello(Self.hello([])))
        let eight = (0..<8).map { PeerAddress(host: .v6([0x20, 0x01] + [UInt8](repeating: 0xff, count: 13) + [UInt8($0)]), port: 65535) }
        let largest = Fixture.seal(.helloReply(HelloReply(hello: Self.hello(eight, roles: Roles.known),
                                                          observedAddress: Self.wideV6)))
        #expect(smallest.readableBytes == 194)
        #expect(largest.readableBytes == 155 + 39 + 8 * 19 + 19)
        #expect(largest.readableBytes == 365)
        #expect(largest.readableBytes <= 3 * smallest.readableBytes)
        #expect(largest.readableBytes <= Envelope.maxDatagramSize)
    }

    /// The probe C sends to A is no larger than the relay B sent C, so a relay cannot be used to
    /// amplify traffic towards the target.
    @Test func dialBackSizes() {
        let request = Fixture.seal(.dialBack(.request(nonce: .max)))
        let relay4 = Fixture.seal(.dialBack(.relay(nonce: .max, target: .ipv4(255, 255, 255, 255, port: 65535))))
        let relay6 = Fixture.seal(.dialBack(.relay(nonce: .max, target: Self.wideV6)))
        let probe = Fixture.seal(.dialBack(.probe(nonce: .max)))
        #expect(request.readableBytes == 163)
        #expect(relay4.readableBytes == 170)
        #expect(relay6.readableBytes == 182)
        #expect(probe.readableBytes == 163)
        #expect(probe.readableBytes <= relay4.readableBytes)
    }
}
