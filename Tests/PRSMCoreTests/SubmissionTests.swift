import PRSMWire
import Testing
@testable import PRSMCore

/// A client's submission is answered with what was admitted and what was refused and why;
/// validators' gossip is not answered.
struct SubmissionTests {
    static let networkID = try! Digest32(Array(repeating: 7, count: 32))

    static func replica(maxTransactions: Int) -> (ConsensusReplica, [SigningKey]) {
        let (validators, keys) = consensusValidators(powers: [1, 1, 1, 1])
        var config = ConsensusReplica.Config()
        config.mempool.maxTransactions = maxTransactions
        return (ConsensusReplica(config: config, networkID: networkID, validators: validators, key: keys[0],
                                 app: KeyValueApplication()), keys)
    }

    static func transaction(_ client: SigningKey, nonce: UInt64, payload: String = "k=v") -> Transaction {
        Transaction.signed(by: client, networkID: networkID, nonce: nonce, payload: Array(payload.utf8))
    }

    static func reports(in effects: [ConsensusReplica.Effect]) -> [TransactionReport] {
        effects.compactMap { if case let .respond(.transactionReport(report)) = $0 { report } else { nil } }
    }

    @Test func aSubmissionIsAnsweredWithEachRefusalAndItsReason() throws {
        var (replica, _) = Self.replica(maxTransactions: 3)
        let alice = consensusKey(100)
        let bob = consensusKey(101)
        let good = [Self.transaction(alice, nonce: 0), Self.transaction(alice, nonce: 1)]
        var forged = Self.transaction(bob, nonce: 0)
        forged = Transaction(sender: forged.sender, nonce: forged.nonce, payload: Array("k=forged".utf8),
                             signature: forged.signature)
        let malformed = Self.transaction(bob, nonce: 0, payload: "no equals sign")
        let third = Self.transaction(bob, nonce: 0)
        let overflow = Self.transaction(bob, nonce: 1)
        let client = consensusKey(200).publicKey

        let effects = replica.receive(.submission(good + [forged, malformed, third, overflow]), from: client, nowMs: 0)
        let report = try #require(Self.reports(in: effects).first)
        #expect(Self.reports(in: effects).count == 1)
        #expect(report.admitted == 3)
        #expect(report.refused.map(\.hash) == [forged.hash, malformed.hash, overflow.hash])
        #expect(report.refused.map(\.reason) == [.badSignature, .rejected, .poolFull])
        #expect(report.refused[1].detail.contains("key=value"))
        #expect(report.refused[2].reason.isTemporary && !report.refused[0].reason.isTemporary)
        // The admitted ones are passed on to the other validators like any client's.
        #expect(effects.filter { if case .gossip = $0 { true } else { false } }.count == 3)

        // Sent again, an admitted transaction counts as admitted (it is pending), not refused.
        let again = replica.receive(.submission([good[0]]), from: client, nowMs: 1)
        #expect(Self.reports(in: again) == [TransactionReport(admitted: 1, refused: [])])
    }

    @Test func aPayloadOverTheWireLimitIsRefusedEvenFromThisProcess() {
        var (replica, _) = Self.replica(maxTransactions: 10)
        let alice = consensusKey(100)
        let large = Self.transaction(alice, nonce: 0, payload: "k=" + String(repeating: "v", count: Transaction.maxPayload - 1))
        guard case let (.refused(refusal), effects) = replica.submit(large, gossip: true, nowMs: 0) else {
            Issue.record("a \(large.payload.count)-byte payload was admitted: no peer could decode a block carrying it")
            return
        }
        #expect(refusal.reason == .rejected && refusal.detail.contains("4097 bytes") && effects.isEmpty)
        // At the limit it is an ordinary transaction.
        let fits = Self.transaction(alice, nonce: 0, payload: "k=" + String(repeating: "v", count: Transaction.maxPayload - 2))
        #expect(replica.submit(fits, gossip: true, nowMs: 0).0 == .accepted)
    }

    @Test func gossipFromValidatorsOrObserversGetsNoAnswer() {
        var (replica, keys) = Self.replica(maxTransactions: 10)
        let alice = consensusKey(100)
        let fromValidator = replica.receive(.transactions([Self.transaction(alice, nonce: 0)]), from: keys[1].publicKey, nowMs: 0)
        let fromObserver = replica.receive(.transactions([Self.transaction(alice, nonce: 1)]), from: consensusKey(300).publicKey,
                                           nowMs: 0)
        #expect(Self.reports(in: fromValidator + fromObserver).isEmpty)
        #expect(replica.mempool.count == 2)
    }

    @Test func aRefusalTextIsCutAtACharacterBoundary() {
        let long = String(repeating: "é", count: 200)  // 2 bytes each
        let refusal = TransactionRefusal(hash: .zero, reason: .rejected, detail: long)
        #expect(refusal.detail.utf8.count == TransactionRefusal.maxDetailBytes)
        #expect(refusal.detail.allSatisfy { $0 == "é" })
    }
}
