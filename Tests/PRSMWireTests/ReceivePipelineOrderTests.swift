import NIOCore
import Testing
@testable import PRSMWire

/// The pipeline's order: size → network id → per-source rate limit → envelope layout → replay
/// check (read-only) → signature → replay record → decode.
struct ReceivePipelineOrderTests {
    @Test func badSignatureDoesNotConsumeTheReplaySlot() {
        let pipeline = Receiver()
        let genuine = Fixture.seal(counter: 7)
        // A forgery reusing the genuine header (same sender, same sequence) with a broken signature.
        let forged = flipped(genuine, at: genuine.readableBytes - 40)
        #expect(pipeline.verdict(forged) == .dropped(.badSignature))
        #expect(pipeline.verdict(forged) == .dropped(.badSignature))
        #expect(pipeline.trackedSenders == 0)
        #expect(pipeline.verdict(genuine).isAccepted)
        #expect(pipeline.verdict(genuine) == .dropped(.replayed))
    }

    @Test func forgedPayloadUnderAGenuineSequenceDoesNotBlockIt() {
        let pipeline = Receiver()
        let genuine = Fixture.seal(.ping(Ping(nonce: 1)), counter: 3)
        let forged = flipped(genuine, at: 91 + 7)  // last nonce byte, signature unchanged
        #expect(pipeline.verdict(forged) == .dropped(.badSignature))
        #expect(pipeline.verdict(genuine) == .accepted(.ping(Ping(nonce: 1)), sender: Fixture.keyA.publicKey))
    }

    /// Every accepted message from one sender names the replay table's copy of its key, so the
    /// tables keyed by that peer share one buffer instead of keeping one decoded copy each.
    @Test func acceptedMessagesFromOneSenderShareOneKeyBuffer() throws {
        let pipeline = Receiver()
        func sender(_ outcome: ReceivePipeline.Outcome) -> PublicKey? {
            guard case let .accepted(inbound) = outcome else { return nil }
            return inbound.sender
        }
        let first = try #require(sender(pipeline.receive(Fixture.seal(counter: 1))))
        let second = try #require(sender(pipeline.receive(Fixture.seal(counter: 2))))
        #expect(first == second)
        let buffers = [first, second].map { key in key.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        #expect(buffers[0] == buffers[1], "each message kept its own decoded copy of the key")
    }

    @Test func replayIsDetectedBeforeTheSignatureIsChecked() {
        let pipeline = Receiver()
        let genuine = Fixture.seal()
        #expect(pipeline.verdict(genuine).isAccepted)
        #expect(pipeline.verdict(flipped(genuine, at: genuine.readableBytes - 1)) == .dropped(.replayed))
    }

    @Test func rejectedPayloadStillUsesItsSequence() {
        // A signed but malformed envelope is evidence once; its bytes cannot be replayed to repeat it.
        let pipeline = Receiver()
        let malformed = Fixture.sealRaw(kind: 0x0001, payload: [1])
        #expect(pipeline.verdict(malformed) == .rejected(.malformedPayload, sender: Fixture.keyA.publicKey))
        #expect(pipeline.verdict(malformed) == .dropped(.replayed))
        let unknown = Fixture.sealRaw(kind: 0x7f01, payload: [], counter: 2)
        #expect(pipeline.verdict(unknown) == .rejected(.unknownKind, sender: Fixture.keyA.publicKey))
        #expect(pipeline.verdict(unknown) == .dropped(.replayed))
    }

    @Test func replayIsRefusedAfterTheWindowFilledWithNewerSequences() {
        let pipeline = Receiver()
        let first = Fixture.seal(counter: 1)
        #expect(pipeline.verdict(first).isAccepted)
        #expect(pipeline.verdict(first) == .dropped(.replayed))
        // 64 newer sequences push sequence 1 out of the window ...
        for counter in UInt64(2)...65 {
            #expect(pipeline.verdict(Fixture.seal(counter: counter), nowMs: Fixture.t0 + counter).isAccepted)
        }
        // ... and it is still refused, now as older than the whole window.
        #expect(pipeline.verdict(first, nowMs: Fixture.t0 + 100) == .dropped(.stale))
        // Sequences still inside the window are duplicates; an unseen one above the window's floor is fresh.
        #expect(pipeline.verdict(Fixture.seal(counter: 2)) == .dropped(.replayed))
        #expect(pipeline.verdict(Fixture.seal(counter: 65)) == .dropped(.replayed))
        #expect(pipeline.verdict(Fixture.seal(counter: 66)).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(counter: 2)) == .dropped(.stale))
    }

    @Test func outOfOrderDeliveryWithinTheWindowIsAccepted() {
        let pipeline = Receiver()
        for counter: UInt64 in [5, 3, 9, 1, 4] {
            #expect(pipeline.verdict(Fixture.seal(counter: counter)).isAccepted, "counter \(counter)")
        }
        for counter: UInt64 in [1, 3, 4, 5, 9] {
            #expect(pipeline.verdict(Fixture.seal(counter: counter)) == .dropped(.replayed))
        }
    }

    @Test func rateLimitIsPerSourceAddressAndRefills() {
        let pipeline = Receiver()
        let valid = Fixture.seal()
        // Burst of 1,000 from one IP (replays still cost a token: the limit comes first).
        #expect(pipeline.verdict(valid).isAccepted)
        for _ in 1..<1_000 { #expect(pipeline.verdict(valid) == .dropped(.replayed)) }
        #expect(pipeline.verdict(Fixture.seal(counter: 2)) == .dropped(.rateLimited))
        // Another port on the same IP shares the bucket; another IP has its own.
        let samePort = PeerAddress.ipv4(127, 0, 0, 1, port: 9)
        #expect(pipeline.verdict(Fixture.seal(counter: 2), from: samePort) == .dropped(.rateLimited))
        #expect(pipeline.verdict(Fixture.seal(counter: 2), from: Fixture.otherSource).isAccepted)
        // 500 per second: one token every 2 ms.
        #expect(pipeline.verdict(Fixture.seal(counter: 3), nowMs: Fixture.t0 + 1) == .dropped(.rateLimited))
        #expect(pipeline.verdict(Fixture.seal(counter: 3), nowMs: Fixture.t0 + 2).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(counter: 4), nowMs: Fixture.t0 + 2) == .dropped(.rateLimited))
    }

    @Test func cheapRejectionsDoNotSpendRateLimitTokens() {
        let pipeline = Receiver()
        let foreign = Fixture.seal(network: Fixture.otherNetwork)
        let huge = ByteBuffer(bytes: [UInt8](repeating: 0, count: 1500))
        let short = ByteBuffer(bytes: [UInt8](repeating: 0, count: 10))
        for _ in 0..<1_500 {
            #expect(pipeline.verdict(foreign) == .dropped(.wrongNetwork))
            #expect(pipeline.verdict(huge) == .dropped(.tooLarge))
            #expect(pipeline.verdict(short) == .dropped(.tooShort))
        }
        #expect(pipeline.trackedSources == 0)
        #expect(pipeline.verdict(Fixture.seal()).isAccepted)
    }

    @Test func rateLimitComesBeforeSignatureVerification() {
        let pipeline = Receiver()
        let valid = Fixture.seal()
        let forged = flipped(valid, at: valid.readableBytes - 10)
        for _ in 0..<1_000 { #expect(pipeline.verdict(forged) == .dropped(.badSignature)) }
        #expect(pipeline.verdict(forged) == .dropped(.rateLimited))
        #expect(pipeline.verdict(Fixture.seal()) == .dropped(.rateLimited))
    }

    @Test func replayTableFullRefusesNewSendersButNotKnownOnes() {
        var config = ReceivePipeline.Config(networkID: Fixture.network)
        config.replay.maxSenders = 2
        let pipeline = Receiver(config: config)
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyA)).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyB)).isAccepted)
        let third = Fixture.seal(key: Fixture.key(3))
        #expect(pipeline.verdict(third) == .dropped(.replayTableFull))
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyA, counter: 2)).isAccepted)
        #expect(pipeline.trackedSenders == 2)
    }

    @Test func anEnvelopeIsAcceptedAtMostOnceWhileTheReplayTableIsFull() {
        // Two senders fill the table. A's window is refreshed, so the earliest expiry the table
        // remembers (B's first timestamp + 30 s) is out of date. A new sender C must then be
        // refused as table-full until a window really expires, and accepted exactly once after.
        var config = ReceivePipeline.Config(networkID: Fixture.network)
        config.replay.maxSenders = 2
        let pipeline = Receiver(config: config)
        let t = Fixture.t0
        let keyC = Fixture.key(3)
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyA, counter: 1, timestamp: t), nowMs: t).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyB, counter: 1, timestamp: t + 20_000), nowMs: t + 20_000).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(key: Fixture.keyA, counter: 1, timestamp: t + 25_000), nowMs: t + 25_000).isAccepted)
        let fromC = Fixture.seal(key: keyC, counter: 1, timestamp: t + 35_000)
        var acceptances = 0
        for now in [t + 35_000, t + 35_001, t + 50_000, t + 50_001, t + 50_002, t + 60_000] {
            switch pipeline.verdict(fromC, nowMs: now) {
            case .accepted: acceptances += 1
            case .dropped(.replayTableFull): #expect(now <= t + 50_000, "B's window expires after t + 50 s")
            case .dropped(.replayed): #expect(acceptances == 1)
            case let other: Issue.record("unexpected \(other) at now = t + \(now - t)")
            }
        }
        #expect(acceptances == 1)
        #expect(pipeline.trackedSenders <= 2)
    }
}
