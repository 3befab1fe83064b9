import NIOCore
import PRSMNode
import Testing

@Suite("Node pings others")
struct NodePingOutTests {
    let target = PeerAddress.ipv4(127, 0, 4, 1, port: 40_002)

    @Test func pongFromTheTargetAnswersThePing() async throws {
        let harness = NodeHarness()
        var events = harness.node.events.makeAsyncIterator()
        let nonce = await harness.node.ping(target)

        let sent = harness.transport.sent
        try #require(sent.count == 1)
        #expect(sent[0].address == target)
        #expect(try openSent(sent[0].bytes, from: harness.identity.publicKey) == .ping(Ping(nonce: nonce)))

        let peer = SigningKey.generate()
        let observed = PeerAddress.ipv4(203, 0, 113, 5, port: 7700)
        harness.clock.advance(byMs: 40)
        await harness.node.receive(InboundDatagram(
            bytes: harness.sealed(.pong(Pong(nonce: nonce, observedAddress: observed)), by: peer), source: target))

        let event = await events.next()
        guard case let .pingAnswered(reply)? = event else {
            Issue.record("expected .pingAnswered, got \(String(describing: event))")
            return
        }
        #expect(reply.nonce == nonce)
        #expect(reply.peer == peer.publicKey)
        #expect(reply.address == target)
        #expect(reply.observedAddress == observed)
        #expect(reply.rttMs == 40)
        #expect(await harness.node.knownPeers.first?.rttMs == 40)
    }

    @Test func pongFromAnotherAddressDoesNotAnswerThePing() async throws {
        let harness = NodeHarness()
        let nonce = await harness.node.ping(target)
        let elsewhere = PeerAddress.ipv4(127, 0, 5, 1, port: 40_002)
        await harness.node.receive(InboundDatagram(
            bytes: harness.sealed(.pong(Pong(nonce: nonce, observedAddress: elsewhere)), by: .generate()),
            source: elsewhere))

        #expect(await harness.node.dropCounters[.unexpected] == 1)
        #expect(await harness.node.status().peersKnown == 0)
    }
}
