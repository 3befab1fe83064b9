import Testing
@testable import PRSMCore

/// Epoch changes at the core and application level: the proof that an epoch's last block is
/// final, a core that starts on the block the previous epoch ended with, and the test
/// application's governance of the validator set.
@Suite struct EpochTests {
    static let (validators, keys) = consensusValidators(powers: [1, 1, 1, 1])

    /// Epoch 0: B1 (view 1) ← B2 (view 2), and a QC for B2: the proof that B1 is final.
    static let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
    static let b2 = consensusBlock(view: 2, parent: b1, justify: consensusQC(for: b1, signers: [1, 2, 3], keys: keys),
                                   proposer: 2)
    static let proofOfB1 = EpochProof(blocks: [b2], certificate: consensusQC(for: b2, signers: [0, 2, 3], keys: keys))

    func commits(_ effects: [ConsensusCore.Effect]) -> [Block] {
        effects.compactMap { if case let .commit(block) = $0 { block } else { nil } }
    }

    @Test func anEpochProofCommitsItsBlockOnANodeThatWasNotThere() {
        var late = ConsensusCore(validators: Self.validators, key: nil)
        #expect(commits(late.receiveSynced([Self.b1], from: 1, nowMs: 0)).isEmpty)
        let effects = late.receiveEpochProof(Self.proofOfB1, from: 1, nowMs: 0)
        #expect(commits(effects) == [Self.b1])
        #expect(late.committed == Self.b1)
        // The node that committed by the proof can hand the same proof on.
        #expect(late.commitProof(of: Self.b1) == Self.proofOfB1)
    }

    @Test func aForgedOrMisfitEpochProofCommitsNothing() {
        var late = ConsensusCore(validators: Self.validators, key: nil)
        _ = late.receiveSynced([Self.b1], from: 1, nowMs: 0)
        let forged = EpochProof(blocks: [Self.b2], certificate: consensusFlipSignature(in: Self.proofOfB1.certificate))
        let refused = late.receiveEpochProof(forged, from: 2, nowMs: 0)
        #expect(commits(refused).isEmpty)
        #expect(refused.contains { if case .misbehaved(2, _) = $0 { true } else { false } })
        // A certificate for some other block than the proof's last one proves nothing.
        let misfit = EpochProof(blocks: [Self.b2], certificate: consensusQC(for: Self.b1, signers: [1, 2, 3], keys: Self.keys))
        #expect(commits(late.receiveEpochProof(misfit, from: 2, nowMs: 0)).isEmpty)
        #expect(late.committed == .genesis)
    }

    @Test func theNextEpochStartsOnTheLastBlockWithoutItsLockAndVotesFromViewOne() {
        // B2 ended epoch 0 carrying a QC of view 1; epoch 1's views restart at 1.
        let (next, nextKeys) = consensusValidators(powers: [1, 1, 1, 1], epoch: 1)
        var core = ConsensusCore(validators: next, key: nextKeys[0], anchor: Self.b2)
        _ = core.start(nowMs: 0)
        #expect(core.view == 1 && core.committed == Self.b2 && core.highQC == .root(of: Self.b2.hash))
        let first = consensusBlock(view: 1, parent: Self.b2, justify: .root(of: Self.b2.hash), proposer: 1, epoch: 1)
        let effects = core.receive(.proposal(first), from: 1, nowMs: 0)
        let votes = effects.compactMap { if case let .broadcast(.vote(vote)) = $0 { vote } else { nil } }
        #expect(votes.map(\.blockHash) == [first.hash] && votes.first?.epoch == 1)
        #expect(core.safety.lockedView == 0 && core.safety.epoch == 1)
        // Epoch 0's genesis QC means nothing here.
        let stale = consensusBlock(view: 2, parent: .genesis, justify: .genesis, proposer: 2, epoch: 1)
        #expect(core.receive(.proposal(stale), from: 2, nowMs: 0).contains { if case .misbehaved = $0 { true } else { false } })
    }

    @Test func aReplicaDoesNotSignInAnEpochOlderThanItsStoredSafetyState() {
        // It voted in epoch 2 before a restart that could only replay to epoch 0: in epoch 0 it
        // follows without signing, so it cannot overwrite the epoch-2 state on disk.
        var stored = ConsensusCore.SafetyState(epoch: 2)
        stored.highestVotedView = 50
        var replica = ConsensusReplica(networkID: .zero, validators: Self.validators, key: Self.keys[0],
                                       app: KeyValueApplication(), safety: stored)
        #expect(replica.core.myIndex == nil)
        let effects = replica.tick(nowMs: 10_000_000) + replica.start(nowMs: 0) + replica.tick(nowMs: 10_000_000)
        #expect(!effects.contains { if case .persist = $0 { true } else { false } })
        let current = ConsensusReplica(networkID: .zero, validators: Self.validators, key: Self.keys[0],
                                       app: KeyValueApplication(), safety: ConsensusCore.SafetyState(epoch: 0))
        #expect(current.core.myIndex == 0)
    }

    @Test func safetyOfAnotherEpochIsNotReused() {
        var stored = ConsensusCore.SafetyState(epoch: 0)
        stored.highestVotedView = 40
        stored.lockedView = 39
        let (next, nextKeys) = consensusValidators(powers: [1, 1, 1, 1], epoch: 1)
        #expect(ConsensusCore(validators: next, key: nextKeys[0], safety: stored, anchor: Self.b2).safety
            == ConsensusCore.SafetyState(epoch: 1))
        #expect(ConsensusCore(validators: Self.validators, key: Self.keys[0], safety: stored).safety == stored)
    }

    // MARK: governance in the test application

    static let governor = consensusKey(900)
    /// Each run on a node of its own key: the change carries both keys through the payload.
    static let newSet = [Genesis.Validator(publicKey: consensusKey(1).publicKey, nodeKey: consensusKey(51).publicKey, power: 5),
                         Genesis.Validator(publicKey: consensusKey(901).publicKey, nodeKey: consensusKey(951).publicKey, power: 7)]

    static func transaction(_ payload: [UInt8], by key: SigningKey = governor, nonce: UInt64 = 0) -> Transaction {
        Transaction.signed(by: key, networkID: .zero, nonce: nonce, payload: payload)
    }

    static func block(_ transactions: [Transaction], height: UInt64 = 1) -> Block {
        Block(epoch: 0, view: height, height: height, parent: Block.genesisHash, justify: .genesis,
              timeoutCertificate: nil, proposer: 0, transactions: transactions)
    }

    @Test func onlyTheGovernorNamesTheNextValidators() {
        var app = KeyValueApplication(governor: Self.governor.publicKey)
        let change = Self.transaction(KeyValueApplication.validatorsPayload(Self.newSet))
        #expect(app.checkTx(change) == .accept(nextNonce: 0))
        let someoneElse = Self.transaction(KeyValueApplication.validatorsPayload(Self.newSet), by: consensusKey(3))
        #expect(app.checkTx(someoneElse) == .reject("only the governor may change the validators"))
        // In a block (a Byzantine proposer skipped admission) it fails as a receipt and changes nothing.
        let executed = app.executeBlock(Self.block([someoneElse, change]))
        #expect(executed.receipts.map(\.succeeded) == [false, true])
        #expect(executed.nextValidators == Self.newSet)
        #expect(app.executeBlock(Self.block([], height: 2)).nextValidators == nil)
    }

    @Test(arguments: [
        "@validators=",
        "@validators=zz:5",
        "@validators=\(consensusKey(1).publicKey.hex):0:\(consensusKey(51).publicKey.hex)",
        "@validators=\(consensusKey(1).publicKey.hex):5:\(consensusKey(51).publicKey.hex),\(consensusKey(1).publicKey.hex):6:\(consensusKey(52).publicKey.hex)",
        "@validators=\(consensusKey(1).publicKey.hex)",
        // Without the key of the node that runs it, a validator could not be reached.
        "@validators=\(consensusKey(1).publicKey.hex):5",
        "@validators=\(consensusKey(1).publicKey.hex):5:zz",
        // One node runs one validator.
        "@validators=\(consensusKey(1).publicKey.hex):5:\(consensusKey(51).publicKey.hex),\(consensusKey(2).publicKey.hex):6:\(consensusKey(51).publicKey.hex)",
        "@quorum=1",
    ])
    func malformedOrReservedGovernanceIsRefused(payload: String) {
        let app = KeyValueApplication(governor: Self.governor.publicKey)
        guard case .reject = app.checkTx(Self.transaction(Array(payload.utf8))) else {
            Issue.record("\(payload) was admitted")
            return
        }
    }

    @Test func withoutAGovernorTheSetNeverChanges() {
        var app = KeyValueApplication()
        let change = Self.transaction(KeyValueApplication.validatorsPayload(Self.newSet))
        #expect(app.checkTx(change) == .reject("only the governor may change the validators"))
        #expect(app.executeBlock(Self.block([change])).nextValidators == nil)
    }
}
