import NIOCore
import PRSMNode
import Testing

/// The tick loop wakes for a deadline set while it sleeps, not only at the wake it planned.
@Suite("Node tick loop")
struct NodeTickTests {
    @Test("a client's transaction is gossiped after the 5 ms batch delay, not at the next tick",
          .timeLimit(.minutes(3)))
    func gossipFlushWakesTheSleepingLoop() async throws {
        let key = Devnet.validatorKey(1)
        let others = [0, 2, 3].map { (Devnet.nodeKey($0).publicKey, PeerAddress.ipv4(127, 0, UInt8(10 + $0), 1, port: 7700)) }
        let harness = NodeHarness(identity: Devnet.nodeKey(1)) { options in
            options.tickMs = 600_000  // the loop's own tick never comes in this test
            var consensus = ConsensusOptions(validatorKey: key,
                                             directory: Dictionary(uniqueKeysWithValues: others.map { ($0.0, [$0.1]) }))
            consensus.replica.core.baseViewTimeoutMs = 600_000
            consensus.replica.core.maxViewTimeoutMs = 600_000
            options.consensus = consensus
        }
        let runner = Task { await harness.node.run() }
        // Let the loop go to sleep first, so the transaction's deadline is set during its sleep.
        try await Task.sleep(for: .milliseconds(50))
        let client = SigningKey.generate()
        let transaction = Transaction.signed(by: client, networkID: Devnet.genesis.networkID, nonce: 0,
                                             payload: Array("answer=42".utf8))
        #expect(await harness.node.submit(transaction) == .accepted)
        let submittedMs = harness.clock.nowMs

        // The manual clock creeps on by 1 ms per look, to at most 100 ms after the submission:
        // a loop woken for the 5 ms flush sends the batch; one that sleeps until its own tick
        // (600 s away) never does, and the time limit fails the test. (No wall-clock bound: a
        // loaded test machine may take seconds to run the loop.)
        var gossiped: Set<PeerAddress> = []
        while gossiped.count < others.count {
            if harness.clock.nowMs < submittedMs + 100 { harness.clock.advance(byMs: 1) }
            try await Task.sleep(for: .milliseconds(5))
            for sent in harness.transport.sent {
                if case let .consensus(.transactions(batch)) = try openSent(sent.bytes, from: Devnet.nodeKey(1).publicKey),
                   batch == [transaction] { gossiped.insert(sent.address) }
            }
        }
        #expect(gossiped == Set(others.map(\.1)))
        harness.transport.finish()
        await runner.value
    }
}
