import NIOCore
import PRSMNode
import Testing

@Suite("Node answers Pings")
struct NodePingReplyTests {
    let source = PeerAddress.ipv4(127, 0, 3, 1, port: 40_001)

    @Test func signedPingGetsAPongAtTheSourceAndAReplayDoesNot() async throws {
        let harness = NodeHarness()
        let peer = SigningKey.generate()
        let ping = harness.sealed(.ping(Ping(nonce: 0xDEAD_BEEF_0042)), by: peer)

        await harness.node.receive(InboundDatagram(bytes: ping, source: source))

        let sent = harness.transport.sent
        try #require(sent.count == 1)
        #expect(sent[0].address == source)
        let reply = try openSent(sent[0].bytes, from: harness.identity.publicKey)
        #expect(reply == .pong(Pong(nonce: 0xDEAD_BEEF_0042, observedAddress: source)))
        #expect(sent[0].bytes.readableBytes <= Envelope.maxDatagramSize)

        await harness.node.receive(InboundDatagram(bytes: ping, source: source))
        #expect(harness.transport.sent.count == 1, "a replayed Ping must not be answered")
        let counters = await harness.node.dropCounters
        #expect(counters[.replayed] == 1)
        #expect(counters.accepted == 1)
        #expect(counters.total == 2)

        let status = await harness.node.status()
        #expect(status.peersKnown == 1)
        #expect(status.accepted == 1)
        #expect(status.drops["replayed"] == 1)
        let peers = await harness.node.knownPeers
        #expect(peers.map(\.key) == [peer.publicKey])
        #expect(peers.first?.address == source)
    }

    @Test func twoPingsFromOnePeerAreBothAnsweredAndCountAsOnePeer() async throws {
        let harness = NodeHarness()
        let peer = SigningKey.generate()
        await harness.node.receive([
            InboundDatagram(bytes: harness.sealed(.ping(Ping(nonce: 1)), by: peer), source: source),
            InboundDatagram(bytes: harness.sealed(.ping(Ping(nonce: 2)), by: peer, sequenceOffset: 1), source: source),
        ])
        let nonces = try harness.transport.sent.map { sent -> UInt64? in
            guard case let .pong(pong) = try openSent(sent.bytes, from: harness.identity.publicKey) else { return nil }
            return pong.nonce
        }
        #expect(nonces == [1, 2])
        #expect(await harness.node.status().peersKnown == 1)
    }

    @Test func forgedPingIsNotAnswered() async throws {
        let harness = NodeHarness()
        var forged = harness.sealed(.ping(Ping(nonce: 7)), by: .generate())
        let last = forged.writerIndex - 1
        forged.setInteger(forged.getInteger(at: last, as: UInt8.self)! ^ 0x01, at: last)

        await harness.node.receive(InboundDatagram(bytes: forged, source: source))

        #expect(harness.transport.sent.isEmpty)
        #expect(await harness.node.dropCounters[.badSignature] == 1)
        #expect(await harness.node.status().peersKnown == 0)
    }

    @Test func pingForAnotherNetworkIsNotAnswered() async throws {
        let harness = NodeHarness()
        let otherNetwork = Blake2b.hash256(Array("another network".utf8))
        let ping = harness.sealed(.ping(Ping(nonce: 7)), by: .generate(), networkID: otherNetwork)

        await harness.node.receive(InboundDatagram(bytes: ping, source: source))

        #expect(harness.transport.sent.isEmpty)
        #expect(await harness.node.dropCounters[.wrongNetwork] == 1)
        #expect(await harness.node.status().peersKnown == 0)
    }

    @Test func unsolicitedPongIsCountedAndIgnored() async throws {
        let harness = NodeHarness()
        let pong = harness.sealed(.pong(Pong(nonce: 99, observedAddress: source)), by: .generate())

        await harness.node.receive(InboundDatagram(bytes: pong, source: source))

        #expect(harness.transport.sent.isEmpty)
        #expect(await harness.node.dropCounters[.unexpected] == 1)
    }
}
