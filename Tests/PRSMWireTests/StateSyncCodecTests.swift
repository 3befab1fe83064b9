@testable import PRSMWire
import PRSMCrypto
import Testing

/// State sync on the wire: checkpoint votes and certificates, snapshot requests and chunks,
/// and the "pruned" sync answer. Each round-trips, and each bound is enforced at decode.
@Suite("State sync codec")
struct StateSyncCodecTests {
    typealias C = ConsensusCodecTests

    static let checkpoint = Checkpoint(epoch: C.epoch, height: 2_000, blockHash: C.parent,
                                       snapshotHash: C.stateRoot, snapshotSize: 3_000_000, validatorsHash: C.four.digest)

    static func certificate(_ signers: [Int], checkpoint: Checkpoint = checkpoint) -> CheckpointCertificate {
        CheckpointCertificate(checkpoint: checkpoint, votes: signers.map {
            SignedBy(index: $0, signature: Fixture.key($0).sign(checkpoint.signingBytes))
        })
    }

    @Test func checkpointVotesAndCertificatesRoundTripAndVerify() throws {
        let vote = Message.consensus(.checkpointVote(CheckpointVote(checkpoint: Self.checkpoint,
                                                                    voter: Self.certificate([2]).votes[0])))
        #expect(vote.kind.rawValue == 0x0207)
        #expect(try Message.decode(kind: 0x0207, payload: vote.encodePayload()) == vote)
        #expect(encoded(vote).count == 186, "PROTOCOL.md 15.8")
        #expect(Fixture.seal(vote).readableBytes <= Envelope.maxDatagramSize)
        // Three of four (power 300 of 400) is a quorum; two is not; the wrong epoch never is.
        #expect(Self.certificate([0, 1, 3]).isValid(for: C.four))
        #expect(!Self.certificate([0, 1]).isValid(for: C.four))
        #expect(!Self.certificate([0, 1, 3]).isValid(for: C.validatorSet(4, epoch: C.epoch + 1)))
        // A signature over another checkpoint does not count.
        let other = Checkpoint(epoch: C.epoch, height: 2_000, blockHash: C.parent, snapshotHash: C.parent,
                               snapshotSize: 3_000_000, validatorsHash: C.four.digest)
        let mixed = CheckpointCertificate(checkpoint: Self.checkpoint,
                                          votes: Self.certificate([0, 1]).votes + Self.certificate([3], checkpoint: other).votes)
        #expect(!mixed.isValid(for: C.four))
    }

    @Test func snapshotRequestsAndChunksRoundTripWithinTheirBounds() throws {
        let request = Message.consensus(.snapshotRequest(SnapshotRequest(epoch: 3, knownHeight: 17, height: 2_000, chunk: 4)))
        #expect(request.kind.rawValue == 0x0208)
        #expect(encoded(request).count == 28, "PROTOCOL.md 15.8")
        #expect(try Message.decode(kind: 0x0208, payload: request.encodePayload()) == request)
        let link = SnapshotChunk.EpochLink(certificate: Self.certificate([0, 1, 2]), next: C.validatorSet(5, epoch: C.epoch + 1))
        let chunk = Message.consensus(.snapshotChunk(SnapshotChunk(links: [link], certificate: Self.certificate([1, 2, 3]),
                                                                   index: 1, count: 3, bytes: Array(repeating: 7, count: 1_000))))
        #expect(chunk.kind.rawValue == 0x0209)
        #expect(try Message.decode(kind: 0x0209, payload: chunk.encodePayload()) == chunk)
        // An index past the count, or a count beyond the bound, is refused.
        var bad = WireWriter()
        bad.u32(0)
        Self.certificate([0, 1, 2]).encode(into: &bad)
        bad.u32(3)
        bad.u32(3)
        bad.bytes([1])
        #expect(decodeError(0x0209, bad.bytesWritten)?.category == .nonCanonical)
        var tooMany = WireWriter()
        tooMany.u32(UInt32(ConsensusLimits.maxEpochLinks + 1))
        #expect(decodeError(0x0209, tooMany.bytesWritten)?.category == .overLimit)
    }

    @Test func aPrunedAnswerCarriesTheHeightAndNoBlocks() throws {
        let pruned = Message.consensus(.blockResponse(BlockResponse(prunedAtHeight: 9_000)))
        #expect(try Message.decode(kind: 0x0206, payload: pruned.encodePayload()) == pruned)
        #expect(encoded(pruned) == C.be(UInt32(0)) + [2] + C.be(UInt64(9_000)))
        let withBlock = C.be(UInt32(1)) + encodedBlock(C.blockWithTC) + [2] + C.be(UInt64(9_000))
        #expect(decodeError(0x0206, withBlock) == .nonCanonical("a pruned answer carries no blocks"))
    }

    func encodedBlock(_ block: Block) -> [UInt8] {
        var writer = WireWriter()
        block.encode(into: &writer)
        return writer.bytesWritten
    }
}
