import Testing
@testable import PRSMCore

/// State sync's trust rules, with plain values: a snapshot is taken only under a certificate of
/// the validators the node trusts (or of a later set reached through certified epoch changes),
/// and only if the bytes match it; votes become a certificate only for the checkpoint this node
/// computed itself.
@Suite struct StateSyncTests {
    static let genesis = consensusValidators(powers: [1, 1, 1, 1], epoch: 0)
    static let nextKeys = (10..<14).map(consensusKey)
    static let next = ValidatorSet(epoch: 1, validators: nextKeys.map { Genesis.Validator(publicKey: $0.publicKey, nodeKey: $0.publicKey, power: 1) })

    /// The encoded snapshot of `ConsensusSnapshotTests`' state at height 2 in `validators`' epoch.
    static func snapshotBytes(validators: ValidatorSet) -> (ConsensusSnapshot, [UInt8]) {
        let snapshot = ConsensusSnapshot(block: ConsensusSnapshotTests.block(height: 2, ["a=3"], firstNonce: 2),
                                         validators: validators, epochAnchor: .genesis,
                                         application: ConsensusSnapshotTests.executed().snapshot())
        return (snapshot, snapshot.encode())
    }

    static func checkpoint(of snapshot: ConsensusSnapshot, bytes: [UInt8], epoch: UInt64) -> Checkpoint {
        Checkpoint(epoch: epoch, height: snapshot.height, blockHash: snapshot.block.hash,
                   snapshotHash: Blake2b.hash256(bytes), snapshotSize: UInt64(bytes.count), validatorsHash: snapshot.validators.digest)
    }

    static func certify(_ checkpoint: Checkpoint, by signers: [Int], keys: [SigningKey]) -> CheckpointCertificate {
        CheckpointCertificate(checkpoint: checkpoint, votes: signers.map {
            SignedBy(index: $0, signature: keys[$0].sign(checkpoint.signingBytes))
        })
    }

    /// `bytes` cut into chunks of `size`, all under `certificate`.
    static func chunks(_ bytes: [UInt8], certificate: CheckpointCertificate, links: [SnapshotChunk.EpochLink] = [],
                       size: Int = ConsensusLimits.snapshotChunkBytes) -> [SnapshotChunk] {
        let count = max(1, (bytes.count + size - 1) / size)
        return (0..<count).map { index in
            SnapshotChunk(links: links, certificate: certificate, index: UInt32(index), count: UInt32(count),
                          bytes: Array(bytes[(index * size)..<min(bytes.count, (index + 1) * size)]))
        }
    }

    @Test func aSnapshotCertifiedByAQuorumOfTheTrustedSetIsTaken() throws {
        let (snapshot, bytes) = Self.snapshotBytes(validators: Self.genesis.set)
        let certificate = Self.certify(Self.checkpoint(of: snapshot, bytes: bytes, epoch: 0), by: [0, 2, 3], keys: Self.genesis.keys)
        let download = try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate)[0], from: consensusKey(2).publicKey,
                                            trusted: Self.genesis.set, knownHeight: 0)
        #expect(download.isComplete && download.signaturesChecked == 3)
        // Its epoch anchor is the genesis block, whose hash is fixed: it decodes as that block.
        #expect(try download.snapshot() == snapshot)
    }

    @Test func twoSignersOfFourOrAnotherSetAreNotEnough() {
        let (snapshot, bytes) = Self.snapshotBytes(validators: Self.genesis.set)
        let checkpoint = Self.checkpoint(of: snapshot, bytes: bytes, epoch: 0)
        let tooFew = Self.certify(checkpoint, by: [0, 1], keys: Self.genesis.keys)
        // A certificate by keys we do not trust, claiming our epoch.
        let strangers = Self.certify(checkpoint, by: [0, 1, 2, 3], keys: Self.nextKeys)
        for certificate in [tooFew, strangers] {
            #expect(throws: StateSyncRefusal.self) {
                try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate)[0], from: consensusKey(2).publicKey,
                                     trusted: Self.genesis.set, knownHeight: 0)
            }
        }
    }

    @Test func tamperedBytesOrAnOldSnapshotAreRefused() throws {
        let (snapshot, bytes) = Self.snapshotBytes(validators: Self.genesis.set)
        let certificate = Self.certify(Self.checkpoint(of: snapshot, bytes: bytes, epoch: 0), by: [0, 1, 2], keys: Self.genesis.keys)
        var tampered = bytes
        tampered[tampered.count - 3] ^= 1
        let download = try SnapshotDownload(first: Self.chunks(tampered, certificate: certificate)[0], from: consensusKey(1).publicKey,
                                            trusted: Self.genesis.set, knownHeight: 0)
        #expect(throws: StateSyncRefusal.hashMismatch) { try download.snapshot() }
        #expect(throws: StateSyncRefusal.notAhead) {
            try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate)[0], from: consensusKey(1).publicKey,
                                 trusted: Self.genesis.set, knownHeight: 2)
        }
    }

    @Test func chunksArriveFullInOrderFromOneCertificate() throws {
        // 2.5 MiB under one certificate: three chunks (what they hold is checked only at the end).
        let bytes = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let checkpoint = Checkpoint(epoch: 0, height: 5, blockHash: .zero, snapshotHash: Blake2b.hash256(bytes),
                                    snapshotSize: UInt64(bytes.count), validatorsHash: .zero)
        let certificate = Self.certify(checkpoint, by: [0, 1, 2], keys: Self.genesis.keys)
        let parts = Self.chunks(bytes, certificate: certificate)
        #expect(parts.count == 3)
        let peer = consensusKey(1).publicKey
        var download = try SnapshotDownload(first: parts[0], from: peer, trusted: Self.genesis.set, knownHeight: 0)
        #expect(throws: StateSyncRefusal.outOfOrder) { try download.add(parts[2]) }
        let other = Self.certify(checkpoint, by: [1, 2, 3], keys: Self.genesis.keys)
        #expect(throws: StateSyncRefusal.otherSnapshot) {
            try download.add(SnapshotChunk(links: [], certificate: other, index: 1, count: 3, bytes: parts[1].bytes))
        }
        #expect(throws: StateSyncRefusal.shortChunk) {
            try download.add(SnapshotChunk(links: [], certificate: certificate, index: 1, count: 3, bytes: Array(parts[1].bytes.dropLast())))
        }
        try download.add(parts[1])
        // The answer to a repeated request changes nothing.
        try download.add(parts[1])
        try download.add(parts[0])
        try download.add(parts[2])
        #expect(download.isComplete && download.bytes == bytes)
        // The hash matches, but these bytes are no snapshot.
        #expect(throws: StateSyncRefusal.self) { try download.snapshot() }
        // A count other than the certified size implies, or a short first chunk, is refused at once.
        #expect(throws: StateSyncRefusal.otherSnapshot) {
            try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate, size: 100)[0], from: peer,
                                 trusted: Self.genesis.set, knownHeight: 0)
        }
        #expect(throws: StateSyncRefusal.shortChunk) {
            try SnapshotDownload(first: SnapshotChunk(links: [], certificate: certificate, index: 0, count: 3, bytes: [1, 2, 3]),
                                 from: peer, trusted: Self.genesis.set, knownHeight: 0)
        }
    }

    @Test func anEpochChangeIsCrossedOnlyThroughItsCertifiedLink() throws {
        // The snapshot is in epoch 1, certified by the new set; the node trusts epoch 0.
        let (snapshot, bytes) = Self.snapshotBytes(validators: Self.next)
        let certificate = Self.certify(Self.checkpoint(of: snapshot, bytes: bytes, epoch: 1), by: [0, 1, 2], keys: Self.nextKeys)
        let boundary = Checkpoint(epoch: 0, height: 1, blockHash: Block.genesisHash, snapshotHash: .zero, snapshotSize: 0,
                                  validatorsHash: Self.next.digest)
        let link = SnapshotChunk.EpochLink(certificate: Self.certify(boundary, by: [0, 1, 3], keys: Self.genesis.keys), next: Self.next)
        let peer = consensusKey(1).publicKey
        let download = try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate, links: [link])[0], from: peer,
                                            trusted: Self.genesis.set, knownHeight: 0)
        #expect(try download.snapshot().validators == Self.next)
        // Without the link, or with a link naming another set than the one given, it is refused.
        #expect(throws: StateSyncRefusal.self) {
            try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate)[0], from: peer, trusted: Self.genesis.set, knownHeight: 0)
        }
        let impostors = ValidatorSet(epoch: 1, validators: (20..<24).map { Genesis.Validator(publicKey: consensusKey($0).publicKey, nodeKey: consensusKey($0).publicKey, power: 1) })
        let swapped = SnapshotChunk.EpochLink(certificate: link.certificate, next: impostors)
        #expect(throws: StateSyncRefusal.badCertificate("validators of epoch 1")) {
            try SnapshotDownload(first: Self.chunks(bytes, certificate: certificate, links: [swapped])[0], from: peer,
                                 trusted: Self.genesis.set, knownHeight: 0)
        }
    }

    @Test func aPageOfLinksLeadsOnlyFromTheSetItStartsAt() throws {
        let boundary = Checkpoint(epoch: 0, height: 1, blockHash: Block.genesisHash, snapshotHash: .zero, snapshotSize: 0,
                                  validatorsHash: Self.next.digest)
        let link = SnapshotChunk.EpochLink(certificate: Self.certify(boundary, by: [0, 1, 3], keys: Self.genesis.keys), next: Self.next)
        let (reached, checked) = try SnapshotDownload.follow([link], from: Self.genesis.set)
        #expect(reached == Self.next && checked == 3)
        #expect(try SnapshotDownload.follow([], from: Self.genesis.set).0 == Self.genesis.set)
        // A page for another epoch than the one the node has reached proves nothing to it.
        #expect(throws: StateSyncRefusal.badCertificate("epoch 1's last checkpoint")) {
            try SnapshotDownload.follow([link], from: Self.next)
        }
    }

    @Test func votesCertifyOnlyTheCheckpointWeComputedOurselves() {
        let (set, keys) = Self.genesis
        let (snapshot, bytes) = Self.snapshotBytes(validators: set)
        let ours = Self.checkpoint(of: snapshot, bytes: bytes, epoch: 0)
        let theirs = Checkpoint(epoch: 0, height: ours.height, blockHash: ours.blockHash, snapshotHash: .zero, snapshotSize: ours.snapshotSize,
                                validatorsHash: ours.validatorsHash)
        func vote(_ checkpoint: Checkpoint, _ index: Int) -> CheckpointVote {
            CheckpointVote(checkpoint: checkpoint, voter: SignedBy(index: index, signature: keys[index].sign(checkpoint.signingBytes)))
        }
        var collector = CheckpointCollector()
        // A vote that arrives before we reach the height waits for it.
        #expect(collector.receive(vote(ours, 1), from: keys[1].publicKey).certificate == nil)
        #expect(collector.add(ours, validators: set, next: nil, own: vote(ours, 0).voter) == nil)
        // A different snapshot hash is refused; a vote signed for someone else's index too.
        #expect(collector.receive(vote(theirs, 2), from: keys[2].publicKey).refusal != nil)
        #expect(collector.receive(vote(ours, 2), from: keys[3].publicKey).refusal != nil)
        let formed = collector.receive(vote(ours, 3), from: keys[3].publicKey).certificate
        #expect(formed?.0.isValid(for: set) == true && formed?.0.votes.map(\.index) == [0, 1, 3])
        // Once formed, further votes change nothing.
        #expect(collector.receive(vote(ours, 2), from: keys[2].publicKey).certificate == nil)
    }
}
