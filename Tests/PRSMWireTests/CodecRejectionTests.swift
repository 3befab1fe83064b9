import NIOCore
import Testing
@testable import PRSMWire

/// Every payload has exactly one accepted encoding; anything else is refused with a typed error.
struct CodecRejectionTests {
    static let samples: [Message] = [
        .ping(Ping(nonce: 0x0102_0304_0506_0708)),
        .pong(Pong(nonce: 9, observedAddress: .ipv4(1, 2, 3, 4, port: 5))),
        .pong(Pong(nonce: 9, observedAddress: PeerAddress(host: .v6([0xfe, 0x80] + [UInt8](repeating: 7, count: 14)), port: 5))),
        .hello(Hello(version: 3, networkID: Fixture.network,
                     listenAddresses: [.ipv4(1, 2, 3, 4, port: 5),
                                       PeerAddress(host: .v6([UInt8](repeating: 1, count: 16)), port: 6)],
                     roles: .provider)),
    ]

    @Test(arguments: 0..<4)
    func everyProperPrefixIsTruncated(sample: Int) {
        let message = Self.samples[sample]
        let payload = encoded(message)
        for length in 0..<payload.count {
            let error = decodeError(message.kind.rawValue, Array(payload[..<length]))
            #expect(error?.category == .truncated, "prefix of \(length) of \(payload.count) bytes gave \(String(describing: error))")
        }
    }

    @Test(arguments: 0..<4)
    func trailingBytesAreRefused(sample: Int) {
        let message = Self.samples[sample]
        #expect(decodeError(message.kind.rawValue, encoded(message) + [0]) == .trailingBytes(1))
        #expect(decodeError(message.kind.rawValue, encoded(message) + [1, 2, 3]) == .trailingBytes(3))
    }

    @Test(arguments: [UInt8(0), 5, 46, 255])
    func unknownAddressFamilyIsNonCanonical(family: UInt8) {
        let payload: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1, family] + [UInt8](repeating: 1, count: 18)
        #expect(decodeError(0x0002, payload)?.category == .nonCanonical)
    }

    @Test func ipv4MappedIPv6IsNonCanonical() {
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]
        let payload: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1, 6] + mapped + [0x1e, 0x14]
        #expect(decodeError(0x0002, payload) == .nonCanonical("IPv4-mapped IPv6 address"))
    }

    @Test(arguments: [UInt16(0x0000), 0x0009, 0x00ff, 0x0100, 0x0107, 0x0200, 0x020c, 0xffff])
    func unknownKindIsReportedWithItsNumber(kind: UInt16) {
        #expect(decodeError(kind, [0, 0, 0, 0, 0, 0, 0, 1]) == .unknownKind(kind))
    }

    @Test func stringOverItsLimitIsRefusedBeforeReadingIt() {
        var writer = WireWriter()
        writer.string(String(repeating: "a", count: 65))
        var reader = WireReader(bytes: writer.bytesWritten)
        #expect(throws: WireError.overLimit("name", length: 65, limit: 64)) { try reader.string("name", limit: 64) }
        // The limit is checked on the prefix alone, so a lying length is refused without its bytes.
        var liar = WireReader(bytes: [0xff, 0xff])
        #expect(throws: WireError.overLimit("name", length: 0xffff, limit: 64)) { try liar.string("name", limit: 64) }
    }

    @Test func stringAtItsLimitAndInvalidUTF8() throws {
        var writer = WireWriter()
        writer.string("é")
        #expect(writer.bytesWritten == [0, 2, 0xc3, 0xa9])
        var reader = WireReader(bytes: writer.bytesWritten)
        #expect(try reader.string("s", limit: 2) == "é")
        var bad = WireReader(bytes: [0, 2, 0xc3, 0x28])
        #expect(throws: WireError.nonCanonical("s is not UTF-8")) { try bad.string("s", limit: 2) }
    }

    @Test func lengthPrefixedBytesAndArraysCheckLimits() throws {
        var writer = WireWriter()
        writer.bytes([1, 2, 3])
        writer.array([UInt16(1), 2]) { $0.u16($1) }
        #expect(writer.bytesWritten == [0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 2, 0, 1, 0, 2])
        var reader = WireReader(bytes: writer.bytesWritten)
        #expect(try reader.bytes("b", limit: 3) == [1, 2, 3])
        #expect(try reader.array("a", limit: 2) { (r: inout WireReader) throws(WireError) in try r.u16("e") } == [1, 2])
        try reader.finish()
        var tight = WireReader(bytes: writer.bytesWritten)
        #expect(throws: WireError.overLimit("b", length: 3, limit: 2)) { try tight.bytes("b", limit: 2) }
    }
}
