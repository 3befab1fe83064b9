import NIOCore
import Testing
@testable import PRSMWire

struct PingPongCodecTests {
    static let v6 = PeerAddress(
        host: .v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]), port: 443)

    @Test(arguments: [UInt64(0), 1, 0x0102_0304_0506_0708, .max])
    func pingRoundTripsAsEightBigEndianBytes(nonce: UInt64) throws {
        let message = Message.ping(Ping(nonce: nonce))
        let payload = encoded(message)
        #expect(payload == (0..<8).map { UInt8(truncatingIfNeeded: nonce >> (56 - 8 * $0)) })
        #expect(try Message.decode(kind: 0x0001, payload: message.encodePayload()) == message)
    }

    @Test func pongWithIPv4ObservedAddressRoundTrips() throws {
        let message = Message.pong(Pong(nonce: 7, observedAddress: .ipv4(127, 0, 0, 1, port: 7700)))
        let payload = encoded(message)
        #expect(payload == [0, 0, 0, 0, 0, 0, 0, 7, 4, 127, 0, 0, 1, 0x1e, 0x14])
        #expect(try Message.decode(kind: 0x0002, payload: message.encodePayload()) == message)
    }

    @Test func pongWithIPv6ObservedAddressRoundTrips() throws {
        let message = Message.pong(Pong(nonce: .max, observedAddress: Self.v6))
        let payload = encoded(message)
        #expect(payload.count == 8 + 1 + 16 + 2)
        #expect(payload[8] == 6)
        #expect(Array(payload[9..<25]) == Self.v6.hostBytes)
        #expect(Array(payload[25...]) == [0x01, 0xbb])
        #expect(try Message.decode(kind: 0x0002, payload: message.encodePayload()) == message)
    }

    @Test func ipv6AddressesOtherThanIPv4MappedAreAccepted() throws {
        // ::1 and the deprecated IPv4-compatible ::1.2.3.4 are distinct IPv6 addresses, not a second
        // spelling of an IPv4 peer; only ::ffff:a.b.c.d is refused.
        for host in [[UInt8](repeating: 0, count: 15) + [1], [UInt8](repeating: 0, count: 12) + [1, 2, 3, 4]] {
            let message = Message.pong(Pong(nonce: 1, observedAddress: PeerAddress(host: .v6(host), port: 1)))
            #expect(try Message.decode(kind: 0x0002, payload: message.encodePayload()) == message)
        }
    }

    @Test func messageKindsAreNumberedBySubsystem() {
        #expect(MessageKind.ping.rawValue == 0x0001)
        #expect(MessageKind.pong.rawValue == 0x0002)
        #expect(MessageKind.hello.rawValue == 0x0003)
        // The high byte names the subsystem: peers (0x00), the DHT (0x01) and consensus (0x02) so far.
        #expect(MessageKind.allCases.allSatisfy { [0x00, 0x01, 0x02].contains($0.rawValue >> 8) })
        #expect(MessageKind.proposal.rawValue == 0x0201 && MessageKind.transaction.rawValue == 0x0204)
        #expect(MessageKind.findNode.rawValue == 0x0101 && MessageKind.stored.rawValue == 0x0106)
    }
}
