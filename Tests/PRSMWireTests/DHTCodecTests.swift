import NIOCore
import Testing
@testable import PRSMWire

/// The DHT's messages (kinds 0x0101–0x0106): round trips, rejections, and the datagram sizes the
/// DHT relies on (docs/PROTOCOL.md section 14).
struct DHTCodecTests {
    static let token = (0..<16).map { UInt8(0xa0 + $0) }
    static let target = Fixture.keyB.nodeID
    static let key = Blake2b.hash256(Array("a record".utf8))
    static let v4 = PeerAddress.ipv4(203, 0, 113, 7, port: 7700)
    static let v6 = PeerAddress(host: .v6([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0xee, count: 12)), port: 7700)
    /// The widest IPv4 and IPv6 contacts (every address byte and port at its maximum).
    static let wideV4 = PeerAddress.ipv4(255, 255, 255, 255, port: 65535)
    static let wideV6 = PeerAddress(host: .v6([UInt8](repeating: 0xfe, count: 16)), port: 65535)

    static func contact(_ index: Int, _ address: PeerAddress = v4) -> WireContact {
        WireContact(publicKey: Fixture.publicKey(index), address: address)
    }

    static func header(token: [UInt8] = token, server: Bool = true) -> DHTRequestHeader {
        DHTRequestHeader(requestID: 0x1122_3344_5566_7788, serverMode: server, token: token)
    }

    static let samples: [Message] = [
        .dht(.findNode(FindNode(header: header(), target: target))),
        .dht(.findNode(FindNode(header: header(token: [], server: false), target: target, padding: 5))),
        .dht(.findValue(FindValue(header: header(), key: key, padding: 3))),
        .dht(.findValue(FindValue(header: header(token: []), key: key))),
        .dht(.nodes(NodesReply(requestID: 9, token: token, contacts: [contact(0), contact(1, v6)]))),
        .dht(.nodes(NodesReply(requestID: 9, token: [], contacts: []))),
        .dht(.value(ValueReply(requestID: 10, token: token, value: [1, 2, 3]))),
        .dht(.value(ValueReply(requestID: 10, token: token, value: []))),
        .dht(.store(StoreRequest(header: header(), value: Array("hello dht".utf8)))),
        .dht(.stored(StoreReply(requestID: 11, token: token, status: .stored))),
        .dht(.stored(StoreReply(requestID: 11, token: [], status: .badToken))),
    ]

    /// A sealed envelope with `message`, as sent.
    static func sealed(_ message: Message) -> ByteBuffer { Fixture.seal(message) }

    // MARK: round trips

    @Test(arguments: 0..<samples.count)
    func roundTripsThroughPayload(sample: Int) throws {
        let message = Self.samples[sample]
        #expect(try Message.decode(kind: message.kind.rawValue, payload: message.encodePayload()) == message)
    }

    @Test(arguments: 0..<samples.count)
    func roundTripsThroughASealedEnvelope(sample: Int) throws {
        let message = Self.samples[sample]
        let buffer = Self.sealed(message)
        let envelope = try Envelope.parse(buffer)
        #expect(envelope.kind == message.kind.rawValue)
        #expect(envelope.hasValidSignature(in: buffer))
        #expect(try Message.decode(kind: envelope.kind, payload: envelope.payload) == message)
        #expect(Receiver().verdict(buffer) == .accepted(message, sender: Fixture.keyA.publicKey))
    }

    @Test func kindsAreTheDocumentedOnes() {
        let kinds: [(DHTMessage, UInt16)] = [
            (.findNode(FindNode(header: Self.header(), target: Self.target)), 0x0101),
            (.nodes(NodesReply(requestID: 1, token: [], contacts: [])), 0x0102),
            (.findValue(FindValue(header: Self.header(), key: Self.key)), 0x0103),
            (.value(ValueReply(requestID: 1, token: [], value: [])), 0x0104),
            (.store(StoreRequest(header: Self.header(), value: [])), 0x0105),
            (.stored(StoreReply(requestID: 1, token: [], status: .stored)), 0x0106),
        ]
        for (message, kind) in kinds {
            #expect(message.kind.rawValue == kind)
            #expect(Message.dht(message).kind.rawValue == kind)
        }
        #expect(MessageKind.allCases.filter { $0.rawValue >> 8 == 0x01 }.map(\.rawValue) == Array(0x0101...0x0106))
    }

    @Test func repliesNameTheRequestTheyAnswer() {
        #expect(DHTMessage.nodes(NodesReply(requestID: 7, token: [], contacts: [])).replyID == 7)
        #expect(DHTMessage.value(ValueReply(requestID: 8, token: [], value: [])).replyID == 8)
        #expect(DHTMessage.stored(StoreReply(requestID: 9, token: [], status: .stored)).replyID == 9)
        #expect(DHTMessage.findNode(FindNode(header: Self.header(), target: Self.target)).replyID == nil)
        #expect(DHTMessage.findValue(FindValue(header: Self.header(), key: Self.key)).replyID == nil)
        #expect(DHTMessage.store(StoreRequest(header: Self.header(), value: [])).replyID == nil)
    }

    // MARK: byte layout

    @Test func findNodeLayout() {
        let payload = encoded(.dht(.findNode(FindNode(header: Self.header(), target: Self.target, padding: 2))))
        #expect(Array(payload[0..<8]) == [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        #expect(payload[8] == 1)                                   // flags: server mode
        #expect(Array(payload[9..<13]) == [0, 0, 0, 16])          // token length
        #expect(Array(payload[13..<29]) == Self.token)
        #expect(Array(payload[29..<61]) == Self.target.bytes)
        #expect(Array(payload[61...]) == [0, 0, 0, 2, 0, 0])      // padding: length, zero bytes
        let client = encoded(.dht(.findNode(FindNode(header: Self.header(token: [], server: false), target: Self.target))))
        #expect(client.count == 8 + 1 + 4 + 32 + 4)
        #expect(client[8] == 0)
        #expect(Array(client[9..<13]) == [0, 0, 0, 0])
    }

    @Test func findValueLayoutMatchesFindNodeWithTheKeyAsTarget() {
        let value = encoded(.dht(.findValue(FindValue(header: Self.header(), key: Self.key, padding: 7))))
        let node = encoded(.dht(.findNode(FindNode(header: Self.header(), target: NodeID(digest: Self.key), padding: 7))))
        #expect(value == node)
        #expect(value.count == 29 + 32 + 4 + 7)
    }

    @Test func nodesReplyLayout() {
        let payload = encoded(.dht(.nodes(NodesReply(requestID: 9, token: Self.token,
                                                      contacts: [Self.contact(0), Self.contact(1, Self.v6)]))))
        #expect(Array(payload[0..<8]) == [0, 0, 0, 0, 0, 0, 0, 9])
        #expect(Array(payload[8..<12]) == [0, 0, 0, 16])
        #expect(Array(payload[12..<28]) == Self.token)
        #expect(Array(payload[28..<32]) == [0, 0, 0, 2])          // contact count
        #expect(Array(payload[32..<64]) == Fixture.publicKey(0).bytes)
        #expect(Array(payload[64..<71]) == [4, 203, 0, 113, 7, 0x1e, 0x14])
        #expect(Array(payload[71..<103]) == Fixture.publicKey(1).bytes)
        #expect(payload[103] == 6)
        #expect(payload.count == 32 + (32 + 7) + (32 + 19))
    }

    @Test func valueStoreAndStoredLayouts() {
        let value = encoded(.dht(.value(ValueReply(requestID: 10, token: [], value: [1, 2, 3]))))
        #expect(value == [0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])
        let store = encoded(.dht(.store(StoreRequest(header: DHTRequestHeader(requestID: 12, serverMode: false),
                                                     value: [0xaa]))))
        #expect(store == [0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa])
        for status in StoreReply.Status.allCases {
            let stored = encoded(.dht(.stored(StoreReply(requestID: 11, token: Self.token, status: status))))
            #expect(stored.count == 8 + 4 + 16 + 1)
            #expect(stored.last == status.rawValue)
        }
        #expect(StoreReply.Status.allCases.map(\.rawValue) == [0, 1, 2, 3])
    }

    @Test func recordKeyIsBlake2b256OfTheValue() {
        let value = Array("content-addressed".utf8)
        #expect(StoreRequest(header: Self.header(), value: value).key == Blake2b.hash256(value))
    }

    @Test func paddingIsClampedToItsLimitByTheInitializers() {
        #expect(FindNode(header: Self.header(), target: Self.target, padding: 5_000).padding == DHTLimits.maxPadding)
        #expect(FindValue(header: Self.header(), key: Self.key, padding: 5_000).padding == DHTLimits.maxPadding)
        #expect(FindNode(header: Self.header(), target: Self.target, padding: -1).padding == 0)
        #expect(FindValue(header: Self.header(), key: Self.key, padding: -1).padding == 0)
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

    @Test(arguments: [UInt8(2), 3, 0x80, 0xfe, 0xff])
    func unknownFlagBitsAreNonCanonical(flags: UInt8) {
        for message in [Self.samples[0], Self.samples[2], Self.samples[8]] {
            var payload = encoded(message)
            payload[8] = flags
            #expect(decodeError(message.kind.rawValue, payload) == .nonCanonical("unknown dht flag bits"))
        }
    }

    /// A request or reply whose token field (at offset 9 in requests, 8 in replies) is `length` bytes.
    static func withToken(_ message: Message, length: Int) -> [UInt8] {
        let payload = encoded(message)
        let at = message.dhtIsRequest ? 9 : 8
        let old = Int(UInt32(payload[at]) << 24 | UInt32(payload[at + 1]) << 16 | UInt32(payload[at + 2]) << 8 | UInt32(payload[at + 3]))
        let prefix = [UInt8(length >> 24 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        return Array(payload[..<at]) + prefix + [UInt8](repeating: 0x5a, count: length) + Array(payload[(at + 4 + old)...])
    }

    @Test(arguments: [1, 8, 15])
    func shortTokensAreNonCanonical(length: Int) {
        for message in Self.samples {
            #expect(decodeError(message.kind.rawValue, Self.withToken(message, length: length))
                    == .nonCanonical("dht token must be empty or 16 bytes"), "\(message)")
        }
    }

    @Test(arguments: [17, 32, 0xffff_ffff])
    func longTokensAreOverLimit(length: Int) {
        for message in Self.samples {
            // A lying length is refused on the prefix alone, before its bytes are read.
            let payload = length > 64 ? Array(Self.withToken(message, length: 0)[..<(message.dhtIsRequest ? 9 : 8)])
                + [0xff, 0xff, 0xff, 0xff] : Self.withToken(message, length: length)
            #expect(decodeError(message.kind.rawValue, payload) == .overLimit("dht token", length: length, limit: 16),
                    "\(message)")
        }
    }

    @Test func tokensOfZeroAndSixteenBytesAreAccepted() throws {
        for message in Self.samples {
            for length in [0, 16] {
                #expect(decodeError(message.kind.rawValue, Self.withToken(message, length: length)) == nil)
            }
        }
    }

    @Test(arguments: [0, 1, 9])
    func nonZeroPaddingByteIsNonCanonical(index: Int) {
        for message in [Message.dht(.findNode(FindNode(header: Self.header(), target: Self.target, padding: 10))),
                        .dht(.findValue(FindValue(header: Self.header(token: []), key: Self.key, padding: 10)))] {
            var payload = encoded(message)
            payload[payload.count - 10 + index] = 0x01
            #expect(decodeError(message.kind.rawValue, payload) == .nonCanonical("padding must be zero bytes"))
        }
    }

    /// A FindNode (0x0101) or FindValue (0x0103) payload with `count` padding bytes, written by hand
    /// (the initializers clamp).
    static func padded(kind: UInt16, _ count: Int) -> [UInt8] {
        var writer = WireWriter()
        header().encode(into: &writer)
        writer.fixed(target.bytes)
        writer.bytes([UInt8](repeating: 0, count: count))
        return writer.bytesWritten
    }

    @Test(arguments: [UInt16(0x0101), 0x0103])
    func paddingUpToTheLimitIsAcceptedBeyondItIsOverLimit(kind: UInt16) {
        #expect(DHTLimits.maxPadding == 980)
        #expect(decodeError(kind, Self.padded(kind: kind, DHTLimits.maxPadding)) == nil)
        #expect(decodeError(kind, Self.padded(kind: kind, 981)) == .overLimit("padding", length: 981, limit: 980))
        #expect(decodeError(kind, Self.padded(kind: kind, 1_025)) == .overLimit("padding", length: 1_025, limit: 980))
        var liar = Self.padded(kind: kind, 0)
        liar.replaceSubrange((liar.count - 4)..., with: [0xff, 0xff, 0xff, 0xff])
        #expect(decodeError(kind, liar) == .overLimit("padding", length: 0xffff_ffff, limit: 980))
    }

    @Test func moreThanTwentyContactsAreOverLimit() throws {
        let twenty = NodesReply(requestID: 1, token: Self.token, contacts: (0..<20).map { Self.contact($0) })
        #expect(try Message.decode(kind: 0x0102, payload: Message.dht(.nodes(twenty)).encodePayload()) == .dht(.nodes(twenty)))
        // The encoder writes what it is given; the decoder refuses the 21st contact on the count.
        let payload = encoded(.dht(.nodes(NodesReply(requestID: 1, token: Self.token, contacts: (0..<21).map { Self.contact($0) }))))
        #expect(decodeError(0x0102, payload) == .overLimit("contacts", length: 21, limit: 20))
        var liar = encoded(.dht(.nodes(NodesReply(requestID: 1, token: [], contacts: []))))
        liar.replaceSubrange(12..<16, with: [0xff, 0xff, 0xff, 0xff])
        #expect(decodeError(0x0102, liar) == .overLimit("contacts", length: 0xffff_ffff, limit: 20))
    }

    @Test func contactsWithBadAddressesAreNonCanonical() {
        var payload = encoded(.dht(.nodes(NodesReply(requestID: 1, token: [], contacts: [Self.contact(0)]))))
        payload[16 + 32] = 5    // the contact's address family
        #expect(decodeError(0x0102, payload) == .nonCanonical("address family 5"))
        let mapped = PeerAddress(host: .v6([UInt8](repeating: 0, count: 10) + [0xff, 0xff, 10, 0, 0, 1]), port: 1)
        let reply = encoded(.dht(.nodes(NodesReply(requestID: 1, token: [], contacts: [Self.contact(0, mapped)]))))
        #expect(decodeError(0x0102, reply) == .nonCanonical("IPv4-mapped IPv6 address"))
    }

    @Test func valuesOverNineHundredBytesAreOverLimit() throws {
        #expect(DHTLimits.maxValueSize == 900)
        let full = [UInt8](repeating: 0x42, count: 900)
        let store = Message.dht(.store(StoreRequest(header: Self.header(), value: full)))
        let value = Message.dht(.value(ValueReply(requestID: 1, token: Self.token, value: full)))
        #expect(try Message.decode(kind: 0x0105, payload: store.encodePayload()) == store)
        #expect(try Message.decode(kind: 0x0104, payload: value.encodePayload()) == value)
        let over = full + [0x42]
        #expect(decodeError(0x0105, encoded(.dht(.store(StoreRequest(header: Self.header(), value: over)))))
                == .overLimit("stored value", length: 901, limit: 900))
        #expect(decodeError(0x0104, encoded(.dht(.value(ValueReply(requestID: 1, token: Self.token, value: over)))))
                == .overLimit("value", length: 901, limit: 900))
    }

    @Test(arguments: [UInt8(4), 5, 0x7f, 0xff])
    func unknownStoreStatusIsNonCanonical(raw: UInt8) {
        var payload = encoded(.dht(.stored(StoreReply(requestID: 1, token: Self.token, status: .stored))))
        payload[payload.count - 1] = raw
        #expect(decodeError(0x0106, payload) == .nonCanonical("unknown store status"))
    }

    @Test func kindsInTheDHTRangeThatAreNotAssignedAreUnknown() {
        for kind: UInt16 in [0x0100, 0x0107, 0x01ff] {
            #expect(decodeError(kind, encoded(Self.samples[0])) == .unknownKind(kind))
        }
    }

    // MARK: sizes the DHT relies on

    @Test func twentyIPv4ContactsWithATokenFitADatagram() {
        let reply = Self.sealed(.dht(.nodes(NodesReply(requestID: .max, token: Self.token,
                                                       contacts: (0..<20).map { Self.contact($0, Self.wideV4) }))))
        // payload: id 8, token 4 + 16, count 4, 20 × (key 32 + address 7)
        #expect(reply.readableBytes == 155 + 32 + 20 * 39)
        #expect(reply.readableBytes == 967)
        #expect(reply.readableBytes <= Envelope.maxDatagramSize)
    }

    @Test func nineteenIPv6ContactsWithATokenFitTwentyDoNot() {
        func size(_ count: Int) -> Int {
            Self.sealed(.dht(.nodes(NodesReply(requestID: .max, token: Self.token,
                                               contacts: (0..<count).map { Self.contact($0, Self.wideV6) })))).readableBytes
        }
        #expect(size(19) == 155 + 32 + 19 * 51)
        #expect(size(19) == 1156)
        #expect(size(19) <= Envelope.maxDatagramSize)
        #expect(size(20) == 1207)
        #expect(size(20) > Envelope.maxDatagramSize)
        // The most IPv6 contacts that fit, computed independently of the two sizes above.
        let fit = (Envelope.maxDatagramSize - Envelope.overhead - 32) / 51
        #expect(fit == 19)
    }

    @Test func storeOfAFullValueWithATokenFitsADatagram() {
        let store = Self.sealed(.dht(.store(StoreRequest(header: Self.header(),
                                                         value: [UInt8](repeating: 0xff, count: 900)))))
        #expect(store.readableBytes == 155 + 29 + 4 + 900)
        #expect(store.readableBytes == 1088)
        #expect(store.readableBytes <= Envelope.maxDatagramSize)
        let value = Self.sealed(.dht(.value(ValueReply(requestID: .max, token: Self.token,
                                                       value: [UInt8](repeating: 0xff, count: 900)))))
        #expect(value.readableBytes == 155 + 28 + 4 + 900)
        #expect(value.readableBytes <= Envelope.maxDatagramSize)
    }

    @Test func requestsPaddedToTheLimitAreAtMostOneDatagram() {
        let node = Self.sealed(.dht(.findNode(FindNode(header: Self.header(), target: Self.target,
                                                       padding: DHTLimits.maxPadding))))
        let value = Self.sealed(.dht(.findValue(FindValue(header: Self.header(), key: Self.key,
                                                          padding: DHTLimits.maxPadding))))
        #expect(node.readableBytes == 1200)
        #expect(value.readableBytes == 1200)
        #expect(node.readableBytes <= Envelope.maxDatagramSize)
        let tokenless = Self.sealed(.dht(.findNode(FindNode(header: Self.header(token: []), target: Self.target,
                                                            padding: DHTLimits.maxPadding))))
        #expect(tokenless.readableBytes == 1184)
    }

    /// The 400 bytes a requester without a token pads FIND_NODE / FIND_VALUE with: the request is
    /// then large enough that 3× it covers any reply that fits a datagram.
    @Test func tokenlessRequestPaddedWithFourHundredBytesCoversAFullReply() {
        let padding = 400
        let node = Self.sealed(.dht(.findNode(FindNode(header: Self.header(token: [], server: false),
                                                       target: Self.target, padding: padding))))
        let value = Self.sealed(.dht(.findValue(FindValue(header: Self.header(token: [], server: false),
                                                          key: Self.key, padding: padding))))
        #expect(node.readableBytes == 604)
        #expect(value.readableBytes == 604)
        #expect(3 * node.readableBytes >= Envelope.maxDatagramSize)
        // The largest replies actually produced: 20 IPv4 or 19 IPv6 contacts, or a 900-byte value.
        let replies = [
            Self.sealed(.dht(.nodes(NodesReply(requestID: .max, token: Self.token,
                                               contacts: (0..<20).map { Self.contact($0, Self.wideV4) })))),
            Self.sealed(.dht(.nodes(NodesReply(requestID: .max, token: Self.token,
                                               contacts: (0..<19).map { Self.contact($0, Self.wideV6) })))),
            Self.sealed(.dht(.value(ValueReply(requestID: .max, token: Self.token,
                                               value: [UInt8](repeating: 0, count: 900))))),
        ]
        for reply in replies { #expect(reply.readableBytes <= 3 * node.readableBytes) }
        // The least padding that would do: 3 × (155 + 49 + p) ≥ 1200.
        let least = (0...).first { 3 * (Envelope.overhead + 49 + $0) >= Envelope.maxDatagramSize }!
        #expect(least == 196)
    }

    /// An unpadded FIND_NODE without a token (204 bytes) allows a 612-byte reply: the responder
    /// trims to 10 IPv4 or 8 IPv6 contacts.
    @Test func unpaddedTokenlessRequestLimitsTheReply() {
        let request = Self.sealed(.dht(.findNode(FindNode(header: Self.header(token: []), target: Self.target))))
        #expect(request.readableBytes == 204)
        let budget = 3 * request.readableBytes
        func fits(_ count: Int, _ address: PeerAddress) -> Bool {
            Self.sealed(.dht(.nodes(NodesReply(requestID: .max, token: Self.token,
                                               contacts: (0..<count).map { Self.contact($0, address) })))).readableBytes <= budget
        }
        #expect(fits(10, Self.wideV4) && !fits(11, Self.wideV4))
        #expect(fits(8, Self.wideV6) && !fits(9, Self.wideV6))
    }

    @Test func storedReplyIsSmallerThanAnyStore() {
        let smallest = Self.sealed(.dht(.store(StoreRequest(header: Self.header(token: []), value: []))))
        let stored = Self.sealed(.dht(.stored(StoreReply(requestID: .max, token: Self.token, status: .badToken))))
        #expect(smallest.readableBytes == 172)
        #expect(stored.readableBytes == 184)
        #expect(stored.readableBytes <= 3 * smallest.readableBytes)
    }
}

extension Message {
    /// Whether this is a DHT request (its token follows the 9-byte id and flags) rather than a reply.
    var dhtIsRequest: Bool {
        switch self {
        case .dht(.findNode), .dht(.findValue), .dht(.store): return true
        default: return false
        }
    }
}
