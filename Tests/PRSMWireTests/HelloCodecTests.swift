import NIOCore
import Testing
@testable import PRSMWire

struct HelloCodecTests {
    static let v4a = PeerAddress.ipv4(10, 0, 0, 2, port: 7700)
    static let v4b = PeerAddress.ipv4(10, 0, 0, 2, port: 7701)
    static let v4c = PeerAddress.ipv4(192, 168, 1, 1, port: 1)
    static let v6 = PeerAddress(host: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 1)

    static func hello(_ addresses: [PeerAddress], roles: Roles = [.validator, .client]) -> Hello {
        Hello(version: 1, networkID: Fixture.network, listenAddresses: addresses, roles: roles)
    }

    @Test func roundTripsWithAddressesSortedAndDeduplicated() throws {
        let hello = Self.hello([Self.v6, Self.v4c, Self.v4b, Self.v4a, Self.v4b])
        #expect(hello.listenAddresses == [Self.v4a, Self.v4b, Self.v4c, Self.v6])
        let payload = encoded(.hello(hello))
        // version u16, network id 32, count u32, 3 × 7 + 1 × 19 address bytes, roles u8
        #expect(payload.count == 2 + 32 + 4 + 3 * 7 + 19 + 1)
        #expect(Array(payload[0..<2]) == [0, 1])
        #expect(Array(payload[2..<34]) == Fixture.network.bytes)
        #expect(Array(payload[34..<38]) == [0, 0, 0, 4])
        #expect(payload.last == 0b101)
        #expect(try Message.decode(kind: 0x0003, payload: ByteBuffer(bytes: payload)) == .hello(hello))
    }

    @Test func addressOrderIsIPv4ThenIPv6ThenBytesThenPort() {
        let broadcast = PeerAddress.ipv4(255, 255, 255, 255, port: 65535)
        let zero6 = PeerAddress(host: .v6([UInt8](repeating: 0, count: 16)), port: 0)
        #expect(broadcast < zero6)
        #expect(!(zero6 < broadcast))
        #expect(Self.v4a < Self.v4b)
        #expect(PeerAddress.ipv4(10, 0, 0, 1, port: 9999) < Self.v4a)
    }

    @Test func eightListenAddressesAreAcceptedNineAreOverLimit() throws {
        let eight = (1...8).map { PeerAddress.ipv4(10, 0, 0, UInt8($0), port: 1) }
        let ok = Self.hello(eight)
        #expect(try Message.decode(kind: 0x0003, payload: ok.encodeBuffer()) == .hello(ok))
        let nine = Self.hello(eight + [.ipv4(10, 0, 0, 9, port: 1)])
        #expect(decodeError(0x0003, bytes(nine.encodeBuffer()))?.category == .overLimit)
    }

    @Test func hugeAddressCountIsOverLimitBeforeReadingElements() {
        var payload = encoded(.hello(Self.hello([])))
        payload.replaceSubrange(34..<38, with: [0xff, 0xff, 0xff, 0xff])
        #expect(decodeError(0x0003, payload) == .overLimit("listen addresses", length: 0xffff_ffff, limit: 8))
    }

    @Test(arguments: [0, 1])
    func unsortedOrDuplicateListenAddressesAreNonCanonical(variant: Int) {
        // Hello.init always sorts, so write the list by hand.
        let list = variant == 0 ? [Self.v4b, Self.v4a] : [Self.v4a, Self.v4a]
        var writer = WireWriter()
        writer.u16(1)
        writer.fixed(Fixture.network.bytes)
        writer.array(list) { $1.encode(into: &$0) }
        writer.u8(1)
        #expect(decodeError(0x0003, writer.bytesWritten)?.category == .nonCanonical)
    }

    @Test(arguments: 0..<8)
    func everyKnownRoleCombinationRoundTrips(bits: Int) throws {
        let hello = Self.hello([Self.v4a], roles: Roles(rawValue: UInt8(bits)))
        let decoded = try Message.decode(kind: 0x0003, payload: hello.encodeBuffer())
        #expect(decoded == .hello(hello))
    }

    @Test(arguments: [UInt8(8), 16, 32, 64, 128, 0xff, 0x09])
    func unknownRoleBitsAreNonCanonical(raw: UInt8) {
        var payload = encoded(.hello(Self.hello([Self.v4a])))
        payload[payload.count - 1] = raw
        #expect(decodeError(0x0003, payload)?.category == .nonCanonical)
    }

    @Test func roleNamesMapToBits() throws {
        #expect(try Roles(names: ["client", "validator"]).rawValue == 5)
        #expect(Roles(rawValue: 7).names == ["validator", "provider", "client"])
        #expect(throws: WireError.self) { try Roles(names: ["miner"]) }
    }
}

extension Hello {
    func encodeBuffer() -> ByteBuffer { Message.hello(self).encodePayload() }
}
