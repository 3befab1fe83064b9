import NIOCore
import Testing
@testable import PRSMWire

/// A client's Submission (0x020A) and the TransactionReport (0x020B) that answers it.
struct SubmissionCodecTests {
    static let transactions = (0..<3).map {
        Transaction.signed(by: Fixture.key($0), networkID: Fixture.network, nonce: UInt64($0), payload: Array("k\($0)=v".utf8))
    }
    static let report = TransactionReport(admitted: 2, refused: [
        TransactionRefusal(hash: transactions[0].hash, reason: .poolFull),
        TransactionRefusal(hash: transactions[2].hash, reason: .rejected, detail: "payload is not key=value"),
    ])

    @Test func kindsAndRoundTrips() throws {
        for (message, kind) in [(Message.consensus(.submission(Self.transactions)), 0x020A),
                                (.consensus(.submission([])), 0x020A),
                                (.consensus(.transactionReport(Self.report)), 0x020B),
                                (.consensus(.transactionReport(TransactionReport(admitted: 0, refused: []))), 0x020B)] {
            #expect(message.kind.rawValue == kind)
            #expect(try Message.decode(kind: UInt16(kind), payload: message.encodePayload()) == message)
            expectEveryPrefixTruncated(message)
            #expect(decodeError(UInt16(kind), encoded(message) + [0]) == .trailingBytes(1))
        }
    }

    @Test func aSubmissionIsLaidOutLikeAGossipBatch() {
        #expect(encoded(.consensus(.submission(Self.transactions))) == encoded(.consensus(.transactions(Self.transactions))))
    }

    @Test func reportLayout() {
        var expected = [0, 0, 0, 2, 0, 0, 0, 2] as [UInt8]
        expected += Self.transactions[0].hash.bytes + [1, 0, 0]
        expected += Self.transactions[2].hash.bytes + [8, 0, 24] + Array("payload is not key=value".utf8)
        #expect(encoded(.consensus(.transactionReport(Self.report))) == expected)
    }

    @Test func unknownReasonsBadTextAndOverLimitCountsAreRefused() {
        let good = encoded(.consensus(.transactionReport(Self.report)))
        var unknownReason = good
        unknownReason[8 + 32] = 0
        #expect(decodeError(0x020B, unknownReason) == .nonCanonical("refusal reason"))
        unknownReason[8 + 32] = 10
        #expect(decodeError(0x020B, unknownReason) == .nonCanonical("refusal reason"))

        var notUTF8 = good
        notUTF8[notUTF8.count - 1] = 0xFF
        #expect(decodeError(0x020B, notUTF8) == .nonCanonical("refusal detail is not UTF-8"))

        var writer = WireWriter()
        writer.u32(0)
        writer.u32(1)
        writer.fixed(Self.transactions[0].hash.bytes)
        writer.u8(8)
        writer.string(String(repeating: "x", count: TransactionRefusal.maxDetailBytes + 1))
        #expect(decodeError(0x020B, writer.bytesWritten)
            == .overLimit("refusal detail", length: TransactionRefusal.maxDetailBytes + 1, limit: TransactionRefusal.maxDetailBytes))

        // More transactions accounted for than a batch can hold.
        var tooMany = WireWriter()
        tooMany.u32(UInt32(ConsensusLimits.maxGossipBatch))
        tooMany.u32(1)
        TransactionRefusal(hash: Self.transactions[0].hash, reason: .poolFull).encode(into: &tooMany)
        #expect(decodeError(0x020B, tooMany.bytesWritten)
            == .overLimit("report", length: ConsensusLimits.maxGossipBatch + 1, limit: ConsensusLimits.maxGossipBatch))
    }

    /// What goes back by datagram is never larger than the submission it answers, whatever was
    /// refused: a refusal without its text is 35 bytes, a transaction at least 108.
    @Test func aReportWithoutTextsIsSmallerThanTheSubmission() {
        let batch = (0..<9).map { Transaction.signed(by: Fixture.key($0), networkID: Fixture.network, nonce: 0, payload: []) }
        let everyRefused = TransactionReport(admitted: 0, refused: batch.map {
            TransactionRefusal(hash: $0.hash, reason: .rejected, detail: String(repeating: "x", count: 160))
        })
        #expect(encoded(.consensus(.transactionReport(everyRefused))).count > encoded(.consensus(.submission(batch))).count)
        #expect(encoded(.consensus(.transactionReport(everyRefused.withoutDetails))).count
            < encoded(.consensus(.submission(batch))).count)
        #expect(everyRefused.withoutDetails.refused.map(\.hash) == batch.map(\.hash))
    }
}
