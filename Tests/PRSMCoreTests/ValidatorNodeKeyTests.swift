import PRSMWire
import Testing
@testable import PRSMCore

/// A validator's consensus key and its node's identity are separate keys: the validator set
/// names both, envelopes from the node speak for the validator, and messages for a validator
/// go to its node.
struct ValidatorNodeKeyTests {
    static let networkID = try! Digest32(Array(repeating: 9, count: 32))
    static let validatorKeys = (0..<4).map(consensusKey)
    static let nodeKeys = (0..<4).map { consensusKey(50 + $0) }

    /// Validator i: consensus key `validatorKeys[i]`, run by the node `nodeKeys[i]`.
    static let validators = (0..<4).map {
        Genesis.Validator(publicKey: validatorKeys[$0].publicKey, nodeKey: nodeKeys[$0].publicKey, power: 1)
    }

    /// Validator 0's replica on the node `nodeKey` (by default the one the set names).
    static func replica(onNode nodeKey: PublicKey = nodeKeys[0].publicKey) -> ConsensusReplica {
        ConsensusReplica(networkID: networkID, validators: ValidatorSet(epoch: 0, validators: validators),
                         key: validatorKeys[0], nodeKey: nodeKey, app: KeyValueApplication())
    }

    /// Validator `index`'s timeout for view 1, signed with its consensus key.
    static func timeout(by index: Int) -> TimeoutVote {
        let bytes = TimeoutVote.signingBytes(epoch: 0, view: 1, highQCView: QuorumCertificate.genesis.view)
        return TimeoutVote(epoch: 0, view: 1, highQC: .genesis,
                           voter: SignedBy(index: index, signature: validatorKeys[index].sign(bytes)))
    }

    @Test func timeoutsCountWhenTheValidatorsNodesSendThem() {
        var replica = Self.replica()
        _ = replica.start(nowMs: 0)
        #expect(replica.core.view == 1)

        // Signed by the right consensus keys, but enveloped by those keys instead of the nodes
        // genesis names: nobody who runs a validator sent them.
        for index in 1...3 {
            let effects = replica.receive(.timeout(Self.timeout(by: index)), from: Self.validatorKeys[index].publicKey, nowMs: 1)
            #expect(effects == [.ignored("timeout from a non-validator")])
        }
        #expect(replica.core.view == 1)

        // From the validators' nodes: two join us into timing out (ours goes to their nodes),
        // three make a certificate and move us to view 2.
        var sent: [ConsensusReplica.Effect] = []
        for index in 1...3 {
            sent += replica.receive(.timeout(Self.timeout(by: index)), from: Self.nodeKeys[index].publicKey, nowMs: 2)
        }
        #expect(replica.core.view == 2)
        let audiences = sent.compactMap { effect -> [PublicKey]? in
            if case let .broadcast(.timeout, to) = effect { return to }
            return nil
        }
        #expect(!audiences.isEmpty)
        #expect(audiences.allSatisfy { $0 == Self.nodeKeys[1...].map(\.publicKey) })
        #expect(replica.otherValidators == Self.nodeKeys[1...].map(\.publicKey))
    }

    @Test func aValidatorKeyTheSetRunsOnAnotherNodeDoesNotSign() {
        // Validator 0's key, held by a node the set does not name for it (a copy of
        // validator.key on a second machine, or a validator moved by a set change).
        var elsewhere = Self.replica(onNode: consensusKey(77).publicKey)
        #expect(elsewhere.validatorRunsElsewhere && elsewhere.core.myIndex == nil)
        // It follows: three timeouts move it on, and it never signs one of its own.
        var sent: [ConsensusReplica.Effect] = []
        for index in 1...3 {
            sent += elsewhere.receive(.timeout(Self.timeout(by: index)), from: Self.nodeKeys[index].publicKey, nowMs: 2)
        }
        #expect(elsewhere.core.view == 2)
        #expect(!sent.contains { if case .broadcast(.timeout, _) = $0 { true } else { false } })
        #expect(elsewhere.signaturesMade == 0)
        // On the node the set names, the same key signs.
        let home = Self.replica()
        #expect(!home.validatorRunsElsewhere && home.core.myIndex == 0)
    }

    @Test func gossipIsPassedOnUnlessAValidatorsNodeSentIt() {
        var replica = Self.replica()
        let client = consensusKey(100)
        func transaction(_ nonce: UInt64) -> Transaction {
            Transaction.signed(by: client, networkID: Self.networkID, nonce: nonce, payload: Array("k=v\(nonce)".utf8))
        }
        func gossiped(_ effects: [ConsensusReplica.Effect]) -> Int {
            effects.count { if case .gossip = $0 { true } else { false } }
        }
        // A validator's node already sent it to every validator.
        #expect(gossiped(replica.receive(.transactions([transaction(0)]), from: Self.nodeKeys[2].publicKey, nowMs: 0)) == 0)
        // A consensus key is not a node: its batch is a client's, passed on.
        #expect(gossiped(replica.receive(.transactions([transaction(1)]), from: Self.validatorKeys[2].publicKey, nowMs: 0)) == 1)
    }

    @Test func aValidatorSetCommitsToItsNodeKeys() throws {
        let set = ValidatorSet(epoch: 3, validators: Self.validators)
        var moved = Self.validators
        moved[1] = Genesis.Validator(publicKey: Self.validatorKeys[1].publicKey, nodeKey: consensusKey(99).publicKey, power: 1)
        // Checkpoints name the next set by its digest: a node moved to another key is another set.
        #expect(set.digest != ValidatorSet(epoch: 3, validators: moved).digest)
        var writer = WireWriter()
        set.encode(into: &writer)
        var reader = WireReader(bytes: writer.bytesWritten)
        let decoded = try ValidatorSet.decode(from: &reader, "set")
        #expect(decoded == set && decoded.index(ofNode: Self.nodeKeys[3].publicKey) == 3 && decoded.index(ofNode: Self.validatorKeys[3].publicKey) == nil)
    }
}
