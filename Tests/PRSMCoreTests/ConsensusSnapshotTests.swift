import Testing
@testable import PRSMCore

/// Snapshots of the state: what a node keeps instead of the blocks below it. Restoring one must
/// give back exactly the state (the next block then reaches the same root), and a damaged one
/// must be refused without touching the state.
@Suite struct ConsensusSnapshotTests {
    static let writer = consensusKey(700)

    static func block(height: UInt64, _ payloads: [String], firstNonce: UInt64) -> Block {
        Block(epoch: 0, view: height, height: height, parent: Block.genesisHash, justify: .genesis, timeoutCertificate: nil,
              proposer: 0, transactions: payloads.enumerated().map { offset, payload in
                  Transaction.signed(by: writer, networkID: .zero, nonce: firstNonce + UInt64(offset), payload: Array(payload.utf8))
              })
    }

    static func executed() -> KeyValueApplication {
        var app = KeyValueApplication()
        _ = app.executeBlock(block(height: 1, ["a=1", "b=2"], firstNonce: 0))
        _ = app.executeBlock(block(height: 2, ["a=3"], firstNonce: 2))
        app.commit(height: 2)
        return app
    }

    @Test func aRestoredStateGoesOnExactlyAsTheOriginal() throws {
        var original = Self.executed()
        var restored = KeyValueApplication()
        try restored.restore(fromSnapshot: original.snapshot())
        #expect(restored.executed == original.executed && restored.values == original.values)
        #expect(restored.nextNonce(of: Self.writer.publicKey) == 3)
        #expect(restored.snapshot() == original.snapshot())
        let next = Self.block(height: 3, ["c=4"], firstNonce: 3)
        #expect(restored.executeBlock(next) == original.executeBlock(next))
    }

    @Test func aDamagedSnapshotIsRefusedAndChangesNothing() {
        let bytes = Self.executed().snapshot()
        var app = KeyValueApplication()
        var wrongMagic = bytes
        wrongMagic[0] ^= 0xFF
        for damaged in [Array(bytes.dropLast()), wrongMagic, bytes + [0]] {
            #expect(throws: WireError.self) { try app.restore(fromSnapshot: damaged) }
            #expect(app.executed.height == 0 && app.values.isEmpty)
        }
    }

    @Test func aNodeSnapshotRoundTripsAndABadOneLeavesTheReplicaAtGenesis() throws {
        let (validators, keys) = consensusValidators(powers: [1, 1, 1, 1], epoch: 3)
        let anchor = Self.block(height: 1, [], firstNonce: 0)
        let snapshot = ConsensusSnapshot(block: Self.block(height: 2, ["a=3"], firstNonce: 2), validators: validators,
                                         epochAnchor: anchor, application: Self.executed().snapshot())
        #expect(try ConsensusSnapshot.decode(snapshot.encode()) == snapshot)
        #expect(throws: WireError.self) { try ConsensusSnapshot.decode(Array(snapshot.encode().dropLast())) }

        var replica = ConsensusReplica(networkID: .zero, validators: validators, key: keys[0], app: KeyValueApplication())
        let broken = ConsensusSnapshot(block: snapshot.block, validators: validators, epochAnchor: anchor,
                                       application: Array(snapshot.application.dropLast()))
        #expect(throws: WireError.self) { try replica.restore(snapshot: broken, committed: [], branch: [], highQC: nil) }
        #expect(replica.app.executed.height == 0 && replica.core.committed == .genesis)
        // A good one puts the replica at its height, in its epoch.
        #expect(try replica.restore(snapshot: snapshot, committed: [], branch: [], highQC: nil) == 0)
        #expect(replica.app.executed.height == 2 && replica.core.committed == snapshot.block && replica.epoch == 3)
    }
}
