import NIOCore
import Testing
@testable import PRSMWire

/// Every drop reason the pipeline can produce from bytes, each from the input that should cause it.
struct ReceivePipelineDropTests {
    /// Feeds the scenario for `reason` to a fresh pipeline and returns the last verdict.
    static func scenario(_ reason: DropReason) -> Verdict? {
        let pipeline = Receiver()
        let valid = Fixture.seal()
        switch reason {
        case .tooLarge:
            return pipeline.verdict(Fixture.sealRaw(kind: 0x0001, payload: [UInt8](repeating: 0, count: 1200 - 155 + 1)))
        case .tooShort:
            return pipeline.verdict(ByteBuffer(bytes: bytes(valid).prefix(154)))
        case .badMagic:
            return pipeline.verdict(flipped(valid, at: 1))
        case .badVersion:
            return pipeline.verdict(patched(valid, at: 4, UInt8(2)))
        case .wrongNetwork:
            return pipeline.verdict(Fixture.seal(network: Fixture.otherNetwork))
        case .malformedEnvelope:
            return pipeline.verdict(patched(valid, at: 87, UInt32(9)))
        case .rateLimited:
            for _ in 0..<1_000 { _ = pipeline.verdict(valid) }
            return pipeline.verdict(valid)
        case .prefixRateLimited:
            // Five addresses of one /24, each within its own budget, exhaust the shared one.
            for host in UInt8(1)...4 {
                for _ in 0..<1_000 { _ = pipeline.verdict(valid, from: .ipv4(127, 0, 9, host, port: 1)) }
            }
            return pipeline.verdict(valid, from: .ipv4(127, 0, 9, 5, port: 1))
        case .clockSkew:
            return pipeline.verdict(valid, nowMs: Fixture.t0 + 30_001)
        case .replayed:
            _ = pipeline.verdict(valid)
            return pipeline.verdict(valid)
        case .stale:
            for counter in UInt64(2)...65 { _ = pipeline.verdict(Fixture.seal(counter: counter)) }
            return pipeline.verdict(Fixture.seal(counter: 1))
        case .replayTableFull:
            var config = ReceivePipeline.Config(networkID: Fixture.network)
            config.replay.maxSenders = 1
            let small = Receiver(config: config)
            _ = small.verdict(Fixture.seal(key: Fixture.keyB))
            return small.verdict(valid)
        case .badSignature:
            return pipeline.verdict(flipped(valid, at: valid.readableBytes - 1))
        case .unknownKind:
            return pipeline.verdict(Fixture.sealRaw(kind: 0x00ff, payload: []))
        case .malformedPayload:
            return pipeline.verdict(Fixture.sealRaw(kind: 0x0001, payload: [1, 2, 3, 4, 5, 6, 7]))
        case .unwanted:
            return pipeline.verdict(valid) { _, _ in false }
        case .unexpected, .banned, .handshakeRefused, .consensusRefused, .streamBacklog:
            return nil  // decided by the node's state, never by the pipeline
        }
    }

    @Test(arguments: DropReason.allCases)
    func eachReasonComesFromItsInput(reason: DropReason) {
        guard let verdict = Self.scenario(reason) else { return }
        switch reason {
        case .unknownKind, .malformedPayload:
            // Validly signed: the sender is named so the node can hold it responsible.
            #expect(verdict == .rejected(reason, sender: Fixture.keyA.publicKey))
        default:
            #expect(verdict == .dropped(reason))
        }
    }

    @Test func dropReasonRawValuesAreTheDocumentedCounterNames() {
        #expect(DropReason.allCases.map(\.rawValue) == [
            "too-large", "too-short", "bad-magic", "bad-version", "wrong-network", "malformed-envelope",
            "rate-limited", "prefix-rate-limited", "clock-skew", "replayed", "stale-sequence", "replay-table-full",
            "bad-signature", "unknown-kind", "malformed-payload", "unexpected", "unwanted-reply", "banned",
            "handshake-refused",
            "consensus-refused", "stream-backlog",
        ])
    }

    /// The node may skip the signature check of a message it could only ignore; what it skips
    /// leaves no trace (an unproven sender must not fill the replay table), and what it wants is
    /// still checked.
    @Test func anUnwantedMessageIsDroppedUncheckedAndUnrecorded() {
        let pipeline = Receiver()
        let valid = Fixture.seal(.ping(Ping(nonce: 9)))
        var seen: [(PublicKey, Message)] = []
        #expect(pipeline.verdict(valid) { seen.append(($0, $1)); return false } == .dropped(.unwanted))
        #expect(seen.map(\.0) == [Fixture.keyA.publicKey] && seen.map(\.1) == [.ping(Ping(nonce: 9))])
        #expect(pipeline.trackedSenders == 0)
        #expect(pipeline.verdict(valid) { _, _ in true }.isAccepted, "not recorded, so not a replay")
        let forged = Fixture.seal(.ping(Ping(nonce: 10)), counter: 2)
        #expect(pipeline.verdict(flipped(forged, at: forged.readableBytes - 1)) { _, _ in true } == .dropped(.badSignature))
        // A payload that does not decode is not the predicate's to judge: it is checked and rejected.
        let garbled = Fixture.sealRaw(kind: 0x0001, payload: [1, 2, 3], counter: 3)
        #expect(pipeline.verdict(garbled) { _, _ in false } == .rejected(.malformedPayload, sender: Fixture.keyA.publicKey))
    }

    @Test func anotherPrefixKeepsItsOwnBudget() {
        let pipeline = Receiver()
        for host in UInt8(1)...5 {
            for _ in 0..<1_000 { _ = pipeline.verdict(Fixture.seal(), from: .ipv4(127, 0, 9, host, port: 1)) }
        }
        #expect(pipeline.verdict(Fixture.seal(), from: .ipv4(127, 0, 9, 6, port: 1)) == .dropped(.prefixRateLimited))
        #expect(pipeline.verdict(Fixture.seal(), from: .ipv4(127, 0, 10, 1, port: 1)) != .dropped(.prefixRateLimited))
        #expect(pipeline.verdict(Fixture.seal(), from: .ipv4(127, 0, 10, 1, port: 1)) != .dropped(.rateLimited))
    }

    @Test func validPingIsAcceptedWithItsSenderAndSource() {
        let pipeline = Receiver()
        let outcome = pipeline.receive(Fixture.seal(.ping(Ping(nonce: 5))))
        guard case let .accepted(inbound) = outcome else {
            Issue.record("expected acceptance, got \(Verdict(outcome))")
            return
        }
        #expect(inbound.message == .ping(Ping(nonce: 5)))
        #expect(inbound.sender == Fixture.keyA.publicKey)
        #expect(inbound.source == Fixture.source)
        #expect(inbound.envelope.sequence == Fixture.sequence(Fixture.t0, 1))
    }

    @Test func sizeLimitIsInclusive() {
        let pipeline = Receiver()
        // Exactly 1200 bytes passes the size check (and fails later as a malformed Ping payload).
        let atLimit = Fixture.sealRaw(kind: 0x0001, payload: [UInt8](repeating: 0, count: 1200 - 155))
        #expect(atLimit.readableBytes == 1200)
        #expect(pipeline.verdict(atLimit) == .rejected(.malformedPayload, sender: Fixture.keyA.publicKey))
        #expect(pipeline.verdict(ByteBuffer(bytes: [UInt8](repeating: 0, count: 1201))) == .dropped(.tooLarge))
    }

    @Test func garbageOnAnotherNetworkIdIsNotCalledWrongNetwork() {
        // Only a well-formed envelope says "peer on another network"; noise is counted as noise.
        let pipeline = Receiver()
        let noise = ByteBuffer(bytes: (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        #expect(pipeline.verdict(noise) == .dropped(.badMagic))
        let foreign = Fixture.seal(network: Fixture.otherNetwork)
        #expect(pipeline.verdict(patched(foreign, at: 87, UInt32(0))) == .dropped(.malformedEnvelope))
        #expect(pipeline.verdict(patched(foreign, at: 4, UInt8(9))) == .dropped(.badVersion))
    }

    @Test func clockSkewInBothDirectionsWithInclusiveTolerance() {
        let pipeline = Receiver()
        let now = Fixture.t0
        #expect(pipeline.verdict(Fixture.seal(counter: 1, timestamp: now + 30_001), nowMs: now) == .dropped(.clockSkew))
        #expect(pipeline.verdict(Fixture.seal(counter: 1, timestamp: now - 30_001), nowMs: now) == .dropped(.clockSkew))
        #expect(pipeline.verdict(Fixture.seal(counter: 1, timestamp: now + 30_000), nowMs: now).isAccepted)
        #expect(pipeline.verdict(Fixture.seal(counter: 1, timestamp: now - 30_000), nowMs: now).isAccepted)
    }

    @Test func malformedPayloadsAreRejectedNotAccepted() {
        let pipeline = Receiver()
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4, 0, 1]
        let cases: [(UInt16, [UInt8])] = [(0x0001, []), (0x0001, [UInt8](repeating: 0, count: 9)),
                                          (0x0002, mapped), (0x0003, [0, 1])]
        for (index, (kind, payload)) in cases.enumerated() {
            let envelope = Fixture.sealRaw(kind: kind, payload: payload, counter: UInt64(index + 1))
            #expect(pipeline.verdict(envelope) == .rejected(.malformedPayload, sender: Fixture.keyA.publicKey))
        }
    }
}
