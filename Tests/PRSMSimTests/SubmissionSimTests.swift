import PRSMNode
@testable import PRSMSim
import Testing

/// A client's Submission over a simulated stream: the validator answers on that stream with what
/// it admitted and why it refused the rest, and what it admitted is committed.
@Suite("Submissions in the simulator")
struct SubmissionSimTests {
    final class ProbeBox: @unchecked Sendable {
        var probe: SubmissionProbe?
        var large: SubmissionProbe?
    }

    @Test("a Submission is answered on its stream with each refusal's reason, and the admitted transaction commits",
          .timeLimit(.minutes(2)))
    func submissionIsReportedAndCommitted() async throws {
        let topology = ConsensusSimTests.topology(durationMs: 12_000, txRate: 0)
        let networkID = topology.genesis().networkID
        let client = try SigningKey(seed: Blake2b.hash256(Array("sim-stream-client".utf8)).bytes)
        let wrongNetwork = Transaction.signed(by: client, networkID: Blake2b.hash256(Array("elsewhere".utf8)), nonce: 0,
                                              payload: Array("k=v".utf8))
        let good = Transaction.signed(by: client, networkID: networkID, nonce: 0, payload: Array("k=v".utf8))
        let malformed = Transaction.signed(by: client, networkID: networkID, nonce: 1, payload: Array("no equals sign".utf8))
        // A batch larger than one admission slice (checked over several actor turns).
        let bulkClient = try SigningKey(seed: Blake2b.hash256(Array("sim-stream-bulk-client".utf8)).bytes)
        let bulk = (0..<UInt64(3 * 32 + 5)).map {
            Transaction.signed(by: bulkClient, networkID: networkID, nonce: $0, payload: Array("bulk\($0)=v".utf8))
        }
        let bulkForged = Transaction.signed(by: bulkClient, networkID: Blake2b.hash256(Array("elsewhere".utf8)),
                                            nonce: UInt64(bulk.count), payload: Array("k=v".utf8))
        let box = ProbeBox()
        let result = try await simulate(topology, seed: 3) {
            box.probe = $0.submitOverStream([wrongNetwork, good, malformed], by: client, from: "v1", to: "v2",
                                            atMs: 3_000, checkAfterMs: 5_000)
            box.large = $0.submitOverStream(bulk + [bulkForged], by: bulkClient, from: "v4", to: "v3",
                                            atMs: 3_500, checkAfterMs: 5_000)
        }
        #expect(result.passed, "\(result.report)")
        let probe = try #require(box.probe)
        #expect(probe.errors.isEmpty, "\(probe.errors)")
        let report = try #require(probe.report)
        #expect(report.admitted == 1)
        #expect(report.refused.map(\.hash) == [wrongNetwork.hash, malformed.hash])
        #expect(report.refused.map(\.reason) == [.badSignature, .rejected])
        #expect(probe.committedAfter.map { $0 >= 1 } == true, "the validator passed the admitted transaction on")

        let large = try #require(box.large)
        #expect(large.errors.isEmpty, "\(large.errors)")
        #expect(large.report == TransactionReport(admitted: UInt32(bulk.count),
                                                  refused: [TransactionRefusal(hash: bulkForged.hash, reason: .badSignature)]))
        #expect(large.committedAfter == UInt64(bulk.count + 1), "both clients' admitted transactions are committed")
    }
}
