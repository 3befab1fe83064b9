import NIOCore
import PRSMNode
import Testing

@Suite("Node.run")
struct NodeRunTests {
    @Test func servesDeliveredDatagramsAndStopsWhenTheTransportCloses() async throws {
        let harness = NodeHarness()
        let runner = Task { await harness.node.run() }
        let source = PeerAddress.ipv4(127, 0, 6, 1, port: 40_003)
        harness.transport.inject([InboundDatagram(bytes: harness.sealed(.ping(Ping(nonce: 5)), by: .generate()),
                                                  source: source)])
        harness.transport.finish()
        await runner.value  // would hang if run() did not return when the transport closed

        #expect(harness.transport.sent.map(\.address) == [source])
        var events = harness.node.events.makeAsyncIterator()
        #expect(await events.next() == nil, "the event stream ends with the node")
    }

    @Test func unansweredPingTimesOut() async throws {
        let harness = NodeHarness()
        let runner = Task { await harness.node.run() }
        var events = harness.node.events.makeAsyncIterator()
        let target = PeerAddress.ipv4(127, 0, 7, 1, port: 40_004)
        let nonce = await harness.node.ping(target)

        // Keep time moving: the tick loop may not have started sleeping yet.
        let ticker = Task {
            while !Task.isCancelled {
                harness.clock.advance(byMs: 500)
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(await events.next() == .pingTimedOut(nonce: nonce, address: target))
        ticker.cancel()

        harness.transport.finish()
        await runner.value
    }
}
