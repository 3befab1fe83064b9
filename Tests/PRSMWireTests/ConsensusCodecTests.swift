import NIOCore
import Testing
@testable import PRSMWire

/// The consensus messages (kinds 0x0201–0x0204): round trips, what the hashes and signatures
/// commit to, rejections, and the datagram sizes (docs/PROTOCOL.md section 15).
struct ConsensusCodecTests {
    static let epoch: UInt64 = 7

    /// Validator `i` of a test set signs with `Fixture.key(i)`; every validator has power 100.
    static func validatorSet(_ count: Int, epoch: UInt64 = epoch) -> ValidatorSet {
        ValidatorSet(epoch: epoch, validators: (0..<count).map {
            Genesis.Validator(publicKey: Fixture.key($0).publicKey, nodeKey: Fixture.key($0).publicKey, power: 100)
        })
    }

    static let four = validatorSet(4)
    static let sixtyFour = validatorSet(64)

    static func vote(_ signer: Int, view: UInt64, block: Digest32, epoch: UInt64 = epoch) -> SignedBy {
        SignedBy(index: signer, signature: Fixture.key(signer).sign(
            Vote.signingBytes(epoch: epoch, view: view, blockHash: block)))
    }

    static func qc(view: UInt64, block: Digest32, signers: some Sequence<Int>) -> QuorumCertificate {
        QuorumCertificate(view: view, blockHash: block, votes: signers.map { vote($0, view: view, block: block) })
    }

    static func timeoutEntry(_ signer: Int, view: UInt64, highQCView: UInt64) -> TimeoutCertificate.Entry {
        let signature = Fixture.key(signer).sign(TimeoutVote.signingBytes(epoch: epoch, view: view, highQCView: highQCView))
        return TimeoutCertificate.Entry(signer: SignedBy(index: signer, signature: signature), highQCView: highQCView)
    }

    static func tc(view: UInt64, signers: [Int], highQCView: (Int) -> UInt64) -> TimeoutCertificate {
        TimeoutCertificate(view: view, entries: signers.map { timeoutEntry($0, view: view, highQCView: highQCView($0)) })
    }

    static let parent = Blake2b.hash256(Array("parent block".utf8))
    static let stateRoot = Blake2b.hash256(Array("state after height 9".utf8))

    static func transaction(_ sender: Int, nonce: UInt64, payload: [UInt8], network: Digest32 = Fixture.network) -> Transaction {
        Transaction.signed(by: Fixture.key(100 + sender), networkID: network, nonce: nonce, payload: payload)
    }

    static let transactions: [Transaction] = [
        transaction(0, nonce: 1, payload: Array("transfer 5 to bob".utf8)),
        transaction(1, nonce: 0, payload: []),
        transaction(0, nonce: 2, payload: [UInt8](repeating: 0xab, count: 300)),
    ]

    /// View 12 entered through a TC for view 11 (3 of 4 signers) on top of a QC for view 10.
    static let blockWithTC = Block(
        epoch: epoch, view: 12, height: 10, parent: parent,
        justify: qc(view: 10, block: parent, signers: [0, 1, 3]),
        timeoutCertificate: tc(view: 11, signers: [0, 2, 3]) { $0 == 2 ? 9 : 10 },
        proposer: 0, executedHeight: 9, stateRoot: stateRoot, transactions: transactions)

    static let smallVote = Vote(epoch: epoch, view: 5, blockHash: parent, voter: vote(2, view: 5, block: parent))

    /// A QC of the 64-validator set signed by its smallest quorum (43 of 64).
    static let bigQC = qc(view: 40, block: parent, signers: 0..<43)

    static let samples: [Message] = [
        .consensus(.vote(smallVote)),
        .consensus(.timeout(TimeoutVote(epoch: epoch, view: 3, highQC: .genesis,
                                        voter: SignedBy(index: 1, signature: Fixture.key(1).sign(
                                            TimeoutVote.signingBytes(epoch: epoch, view: 3, highQCView: 0)))))),
        .consensus(.timeout(TimeoutVote(epoch: epoch, view: 41, highQC: bigQC,
                                        voter: SignedBy(index: 63, signature: Fixture.key(63).sign(
                                            TimeoutVote.signingBytes(epoch: epoch, view: 41, highQCView: 40)))))),
        .consensus(.transactions([transactions[0]])),
        .consensus(.transactions([transactions[1]])),
        .consensus(.proposal(Block(epoch: 0, view: 1, height: 1, parent: Block.genesisHash, justify: .genesis,
                                   timeoutCertificate: nil, proposer: 1, transactions: []))),
        .consensus(.proposal(blockWithTC)),
        .consensus(.transactions(transactions)),    // a batch of 3, in order
        .consensus(.transactions([])),              // an empty batch: just the count
    ]

    /// Big-endian bytes, written independently of `WireWriter`.
    static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func decodedBlock(_ block: Block) throws -> Block {
        guard case let .consensus(.proposal(decoded)) = try Message.decode(
            kind: 0x0201, payload: Message.consensus(.proposal(block)).encodePayload()) else {
            Issue.record("a proposal payload did not decode to a proposal")
            return block
        }
        return decoded
    }

    // MARK: round trips

    @Test func kindsAreTheDocumentedOnes() {
        #expect(sample(of: .vote).kind.rawValue == 0x0202)
        #expect(Message.consensus(.proposal(Self.blockWithTC)).kind.rawValue == 0x0201)
        #expect(Message.consensus(.timeout(TimeoutVote(epoch: 0, view: 1, highQC: .genesis,
                                                       voter: Self.smallVote.voter))).kind.rawValue == 0x0203)
        #expect(Message.consensus(.transactions([Self.transactions[0]])).kind.rawValue == 0x0204)
        #expect(Message.consensus(.transactions([])).kind.rawValue == 0x0204)
        #expect(Array(MessageKind.allCases.filter { $0.rawValue >> 8 == 0x02 }.map(\.rawValue).prefix(4)) == Array(0x0201...0x0204))
        #expect(MessageKind(rawValue: 0x0200) == nil)
    }

    func sample(of kind: MessageKind) -> Message { Self.samples.first { $0.kind == kind }! }

    @Test(arguments: 0..<samples.count)
    func roundTripsThroughPayload(sample: Int) throws {
        let message = Self.samples[sample]
        let decoded = try Message.decode(kind: message.kind.rawValue, payload: message.encodePayload())
        #expect(decoded == message)
        #expect(encoded(decoded) == encoded(message))
    }

    @Test func blockWithATCAndSeveralTransactionsKeepsEveryField() throws {
        let block = Self.blockWithTC
        let decoded = try Self.decodedBlock(block)
        #expect(decoded.hash == block.hash)
        #expect(decoded.transactionRoot == block.transactionRoot)
        #expect(decoded.transactions.map(\.hash) == Self.transactions.map(\.hash))
        #expect(decoded.timeoutCertificate?.view == 11)
        #expect(decoded.timeoutCertificate?.highestQCView == 10)
        #expect(decoded.timeoutCertificate?.entries.map(\.signer.index) == [0, 2, 3])
        #expect(decoded.justify.votes.map(\.index) == [0, 1, 3])
        #expect(decoded.executedHeight == 9 && decoded.stateRoot == Self.stateRoot && decoded.proposer == 0)
        #expect(block.encodedSize == encoded(.consensus(.proposal(block))).count)
    }

    // MARK: byte layout

    @Test func voteAndTransactionLayouts() {
        let vote = encoded(.consensus(.vote(Self.smallVote)))
        #expect(vote.count == 114)
        #expect(Array(vote[0..<8]) == Self.be(Self.epoch))
        #expect(Array(vote[8..<16]) == Self.be(UInt64(5)))
        #expect(Array(vote[16..<48]) == Self.parent.bytes)
        #expect(Array(vote[48..<50]) == [0, 2])                       // signer index u16
        #expect(Array(vote[50...]) == Self.smallVote.voter.signature.bytes)

        // A single-transaction batch: count 1 (u32), then the transaction (15.1) at offset 4.
        let tx = Self.transactions[0]
        let payload = encoded(.consensus(.transactions([tx])))
        #expect(payload.count == 4 + Transaction.overhead + tx.payload.count && payload.count == 4 + tx.encodedSize)
        #expect(Array(payload[0..<4]) == [0, 0, 0, 1])                  // batch count
        #expect(Array(payload[4..<36]) == tx.sender.bytes)
        #expect(Array(payload[36..<44]) == Self.be(UInt64(1)))
        #expect(Array(payload[44..<48]) == Self.be(UInt32(tx.payload.count)))
        #expect(Array(payload[48..<(48 + tx.payload.count)]) == tx.payload)
        #expect(Array(payload[(48 + tx.payload.count)...]) == tx.signature.bytes)
        #expect(tx.hash == Blake2b.hash256(Array(payload[4...])))
    }

    @Test func aBatchIsACountThenTheTransactionsBackToBackInOrder() throws {
        let batch = Message.consensus(.transactions(Self.transactions))
        let payload = encoded(batch)
        #expect(payload.count == 4 + Self.transactions.map(\.encodedSize).reduce(0, +))
        #expect(payload.count == 4 + 3 * 108 + 17 + 0 + 300)
        #expect(Array(payload[0..<4]) == [0, 0, 0, 3])
        var at = 4
        for tx in Self.transactions {
            #expect(Blake2b.hash256(Array(payload[at..<(at + tx.encodedSize)])) == tx.hash)
            at += tx.encodedSize
        }
        #expect(at == payload.count)
        guard case let .consensus(.transactions(decoded)) = try Message.decode(kind: 0x0204, payload: batch.encodePayload())
        else { Issue.record("not a transaction batch"); return }
        #expect(decoded == Self.transactions)
        #expect(decoded.map(\.hash) == Self.transactions.map(\.hash))
        // Order is part of the encoding: the reversed batch is different bytes and decodes reversed.
        let reversed = Message.consensus(.transactions(Self.transactions.reversed()))
        #expect(encoded(reversed) != payload)
        #expect(try Message.decode(kind: 0x0204, payload: reversed.encodePayload()) == reversed)
    }

    @Test func anEmptyBatchIsFourZeroBytesAndRoundTrips() throws {
        let empty = Message.consensus(.transactions([]))
        #expect(encoded(empty) == [0, 0, 0, 0])
        #expect(try Message.decode(kind: 0x0204, payload: empty.encodePayload()) == empty)
        #expect(decodeError(0x0204, [])?.category == .truncated)
        #expect(decodeError(0x0204, [0, 0, 0])?.category == .truncated)
    }

    @Test func blockLayoutFollowsTheDocumentedFieldOrder() {
        let block = Self.blockWithTC
        let payload = encoded(.consensus(.proposal(block)))
        let qcSize = 44 + 3 * 66, tcSize = 12 + 3 * 74
        #expect(Array(payload[0..<8]) == Self.be(Self.epoch))
        #expect(Array(payload[8..<16]) == Self.be(UInt64(12)))
        #expect(Array(payload[16..<24]) == Self.be(UInt64(10)))
        #expect(Array(payload[24..<56]) == Self.parent.bytes)
        #expect(Array(payload[56..<64]) == Self.be(UInt64(10)))          // justify.view
        #expect(Array(payload[64..<96]) == Self.parent.bytes)            // justify.blockHash
        #expect(Array(payload[96..<100]) == [0, 0, 0, 3])                // QC vote count
        #expect(Array(payload[100..<102]) == [0, 0])                     // first signer
        var at = 56 + qcSize
        #expect(payload[at] == 1)                                        // TC flag
        #expect(Array(payload[(at + 1)..<(at + 9)]) == Self.be(UInt64(11)))
        #expect(Array(payload[(at + 9)..<(at + 13)]) == [0, 0, 0, 3])
        // Second TC entry: index 2, signature, high QC view 9.
        #expect(Array(payload[(at + 13 + 74)..<(at + 13 + 76)]) == [0, 2])
        #expect(Array(payload[(at + 13 + 140)..<(at + 13 + 148)]) == Self.be(UInt64(9)))
        at += 1 + tcSize
        #expect(Array(payload[at..<(at + 2)]) == [0, 0])                 // proposer u16
        #expect(Array(payload[(at + 2)..<(at + 10)]) == Self.be(UInt64(9)))
        #expect(Array(payload[(at + 10)..<(at + 42)]) == Self.stateRoot.bytes)
        #expect(Array(payload[(at + 42)..<(at + 46)]) == [0, 0, 0, 3])
        #expect(payload.count == at + 46 + Self.transactions.map(\.encodedSize).reduce(0, +))
        let minimal = encoded(Self.samples[5])
        #expect(minimal.count == 147)
        #expect(minimal[100] == 0)                                       // no TC
    }

    // MARK: what the hashes commit to

    @Test func blockHashIsTheDocumentedBlake2bOfTheHeader() {
        let block = Self.blockWithTC
        let root = Blake2b.hash256(Array("prsm-txs".utf8) + Self.transactions.flatMap(\.hash.bytes))
        #expect(block.transactionRoot == root)
        let header = Array("prsm-block".utf8) + Self.be(Self.epoch) + Self.be(UInt64(12)) + Self.be(UInt64(10))
            + Self.parent.bytes + Self.be(UInt64(10)) + Self.parent.bytes + Self.be(UInt64(11))
            + Self.be(UInt32(0)) + Self.be(UInt64(9)) + Self.stateRoot.bytes + root.bytes
        #expect(header.count == 190)
        #expect(block.hash == Blake2b.hash256(header))
        #expect(Block.root(of: []) == Blake2b.hash256(Array("prsm-txs".utf8)))
        #expect(Block.genesis.hash == Blake2b.hash256(Array("prsm-genesis-block".utf8)))
        #expect(QuorumCertificate.genesis.blockHash == Block.genesis.hash)
    }

    static func rebuilt(_ block: Block, executedHeight: UInt64? = nil, stateRoot: Digest32? = nil,
                        timeoutCertificate: TimeoutCertificate?? = nil, transactions: [Transaction]? = nil) -> Block {
        Block(epoch: block.epoch, view: block.view, height: block.height, parent: block.parent, justify: block.justify,
              timeoutCertificate: timeoutCertificate ?? block.timeoutCertificate, proposer: block.proposer,
              executedHeight: executedHeight ?? block.executedHeight, stateRoot: stateRoot ?? block.stateRoot,
              transactions: transactions ?? block.transactions)
    }

    @Test func blockHashCommitsToEveryTransaction() {
        let block = Self.blockWithTC
        #expect(Self.rebuilt(block).hash == block.hash)
        var changed = Self.transactions
        changed[1] = Self.transaction(1, nonce: 1, payload: [])
        let other = Self.rebuilt(block, transactions: changed)
        #expect(other.transactionRoot != block.transactionRoot)
        #expect(other.hash != block.hash)
        let reordered = Self.rebuilt(block, transactions: Self.transactions.reversed())
        #expect(reordered.transactionRoot != block.transactionRoot && reordered.hash != block.hash)
        let dropped = Self.rebuilt(block, transactions: Array(Self.transactions.dropLast()))
        #expect(dropped.hash != block.hash)
    }

    @Test func blockHashCommitsToExecutedHeightStateRootAndTC() {
        let block = Self.blockWithTC
        #expect(Self.rebuilt(block, executedHeight: 8).hash != block.hash)
        #expect(Self.rebuilt(block, stateRoot: .zero).hash != block.hash)
        #expect(Self.rebuilt(block, timeoutCertificate: .some(nil)).hash != block.hash)
        // Only the TC's view is hashed: its signatures are evidence, not identity.
        let sameView = Self.tc(view: 11, signers: [1, 2, 3]) { _ in 10 }
        #expect(Self.rebuilt(block, timeoutCertificate: .some(sameView)).hash == block.hash)
    }

    // MARK: transaction signatures

    @Test func transactionSignatureIsBoundToNetworkAndPayload() throws {
        let tx = Self.transactions[0]
        #expect(tx.isValidSignature(networkID: Fixture.network))
        #expect(!tx.isValidSignature(networkID: Fixture.otherNetwork))
        let payload = encoded(.consensus(.transactions([tx])))
        #expect(Transaction.signingBytes(networkID: Fixture.network, sender: tx.sender, nonce: 1, payload: tx.payload)
                == Array("prsm-tx".utf8) + Fixture.network.bytes + tx.sender.bytes + Self.be(UInt64(1))
                + Self.be(UInt32(tx.payload.count)) + tx.payload)
        // The transaction starts after the 4-byte batch count.
        for index in [48, 48 + tx.payload.count - 1, 39] {   // first and last payload byte, a nonce byte
            guard case let .consensus(.transactions(batch)) = try Message.decode(
                kind: 0x0204, payload: flipped(ByteBuffer(bytes: payload), at: index)),
                batch.count == 1, let tampered = batch.first else {
                Issue.record("not a one-transaction batch")
                continue
            }
            #expect(tampered != tx)
            #expect(!tampered.isValidSignature(networkID: Fixture.network), "flipped byte \(index)")
        }
        #expect(Self.transaction(0, nonce: 1, payload: tx.payload, network: Fixture.otherNetwork).signature != tx.signature)
    }

    @Test func transactionHashDiffersWhenOnlyTheSignatureDiffers() throws {
        let tx = Self.transactions[0]
        var signature = tx.signature.bytes
        signature[63] ^= 0x01
        let resigned = Transaction(sender: tx.sender, nonce: tx.nonce, payload: tx.payload, signature: try Signature(signature))
        #expect(resigned.hash != tx.hash)
        #expect(!resigned.isValidSignature(networkID: Fixture.network))
        // A block holding it is a different block.
        let block = Self.blockWithTC
        #expect(Self.rebuilt(block, transactions: [resigned] + Self.transactions.dropFirst()).hash != block.hash)
    }

    // MARK: certificates

    @Test func quorumCertificateValiditySurvivesARoundTripAndFailsOnAFlippedByte() throws {
        let message = Self.samples[2]   // a timeout carrying the 43-vote QC
        guard case let .consensus(.timeout(decoded)) = try Message.decode(kind: 0x0203, payload: message.encodePayload())
        else { Issue.record("not a timeout"); return }
        #expect(Self.sixtyFour.quorumPower == 4_267)
        #expect(decoded.highQC.votes.count == 43)
        #expect(decoded.highQC.isValid(for: Self.sixtyFour))
        // One vote short of the quorum (42 × 100 = 4,200 < 4,267).
        #expect(!Self.qc(view: 40, block: Self.parent, signers: 0..<42).isValid(for: Self.sixtyFour))
        // Another epoch's set: same keys, different signing bytes.
        #expect(!decoded.highQC.isValid(for: Self.validatorSet(64, epoch: Self.epoch + 1)))
        // One signature byte flipped, in the encoding: vote 20's signature starts at 8+8+8+32+4 + 20×66 + 2.
        let at = 60 + 20 * 66 + 2 + 17
        guard case let .consensus(.timeout(tampered)) = try Message.decode(
            kind: 0x0203, payload: flipped(message.encodePayload(), at: at)) else { Issue.record("not a timeout"); return }
        #expect(tampered.highQC.votes[20] != decoded.highQC.votes[20])
        #expect(!tampered.highQC.isValid(for: Self.sixtyFour))
    }

    @Test func timeoutCertificateValiditySurvivesARoundTripAndFailsOnAFlippedByte() throws {
        let block = Self.blockWithTC
        let decoded = try Self.decodedBlock(block)
        let tc = try #require(decoded.timeoutCertificate)
        #expect(tc.isValid(for: Self.four))
        #expect(decoded.justify.isValid(for: Self.four))
        // TC flag sits at 56 + QC (44 + 3 × 66); the first entry's signature starts 13 + 2 bytes after it.
        let at = 56 + 44 + 3 * 66 + 13 + 2 + 40
        guard case let .consensus(.proposal(bad)) = try Message.decode(
            kind: 0x0201, payload: flipped(Message.consensus(.proposal(block)).encodePayload(), at: at)),
            let badTC = bad.timeoutCertificate else { Issue.record("not a proposal with a TC"); return }
        #expect(badTC.entries[0].signer.signature != tc.entries[0].signer.signature)
        #expect(!badTC.isValid(for: Self.four))
        #expect(bad.hash == block.hash)    // the TC's signatures are not part of the block's identity
        // A reported high-QC view that differs from what was signed is refused as well.
        let lying = TimeoutCertificate(view: 11, entries: tc.entries.map {
            TimeoutCertificate.Entry(signer: $0.signer, highQCView: $0.highQCView + 1)
        })
        #expect(!lying.isValid(for: Self.four))
        // Two of four (200 < 267) is not a quorum.
        #expect(!Self.tc(view: 11, signers: [0, 1]) { _ in 10 }.isValid(for: Self.four))
    }

    // MARK: rejections

    @Test(arguments: [0, 1, 3, 5, 6, 7, 8])
    func everyProperPrefixIsTruncated(sample: Int) {
        expectEveryPrefixTruncated(Self.samples[sample])
    }

    @Test(arguments: 0..<samples.count)
    func trailingBytesAreRefused(sample: Int) {
        let message = Self.samples[sample]
        #expect(decodeError(message.kind.rawValue, encoded(message) + [0]) == .trailingBytes(1))
        #expect(decodeError(message.kind.rawValue, encoded(message) + [0, 0, 0, 0]) == .trailingBytes(4))
    }

    @Test(arguments: [UInt8(2), 3, 0x80, 0xff])
    func tcFlagOtherThanZeroOrOneIsNonCanonical(flag: UInt8) {
        for message in [Self.samples[5], Self.samples[6]] {
            var payload = encoded(message)
            let at = 56 + 44 + 66 * (message == Self.samples[6] ? 3 : 0)
            #expect(payload[at] == (message == Self.samples[6] ? 1 : 0))
            payload[at] = flag
            #expect(decodeError(0x0201, payload) == .nonCanonical("block TC flag"))
        }
    }

    /// A timeout (0x0203) payload whose high QC carries `votes` exactly as given (the QC
    /// initializer would sort them).
    static func timeoutPayload(qcVotes votes: [SignedBy], count: UInt32? = nil) -> [UInt8] {
        var writer = WireWriter()
        writer.u64(epoch)
        writer.u64(41)
        writer.u64(40)
        writer.fixed(parent.bytes)
        writer.u32(count ?? UInt32(votes.count))
        for vote in votes { vote.encode(into: &writer) }
        smallVote.voter.encode(into: &writer)
        writer.u8(0)  // no TC
        return writer.bytesWritten
    }

    /// A proposal (0x0201) payload whose TC carries `entries` exactly as given.
    static func proposalPayload(tcEntries entries: [TimeoutCertificate.Entry]) -> [UInt8] {
        var writer = WireWriter()
        writer.u64(epoch)
        writer.u64(12)
        writer.u64(1)
        writer.fixed(Block.genesisHash.bytes)
        QuorumCertificate.genesis.encode(into: &writer)
        writer.u8(1)
        writer.u64(11)
        writer.u32(UInt32(entries.count))
        for entry in entries {
            entry.signer.encode(into: &writer)
            writer.u64(entry.highQCView)
        }
        writer.u16(0)
        writer.u64(0)
        writer.fixed(Digest32.zero.bytes)
        writer.u32(0)
        return writer.bytesWritten
    }

    @Test func certificateSignersOutOfOrderOrDuplicatedAreNonCanonical() {
        let votes = (0..<3).map { Self.vote($0, view: 40, block: Self.parent) }
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: votes)) == nil)
        let qcError = WireError.nonCanonical("QC votes must be in ascending, distinct signer order")
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [votes[1], votes[0], votes[2]])) == qcError)
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [votes[0], votes[2], votes[1]])) == qcError)
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [votes[0], votes[1], votes[1]])) == qcError)
        // A duplicate with a different signature is still a duplicate signer.
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [votes[0], SignedBy(index: 0, signature: votes[1].signature)]))
                == qcError)

        let entries = [0, 1, 2].map { Self.timeoutEntry($0, view: 11, highQCView: 0) }
        #expect(decodeError(0x0201, Self.proposalPayload(tcEntries: entries)) == nil)
        let tcError = WireError.nonCanonical("TC entries must be in ascending, distinct signer order")
        #expect(decodeError(0x0201, Self.proposalPayload(tcEntries: [entries[2], entries[0], entries[1]])) == tcError)
        #expect(decodeError(0x0201, Self.proposalPayload(tcEntries: [entries[0], entries[0]])) == tcError)
    }

    @Test func overLimitCountsAreRefusedOnThePrefix() {
        // QC votes: the count alone is refused, with no vote bytes after it.
        #expect(ConsensusLimits.maxValidators == 1_024)
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [], count: 1_025))
                == .overLimit("QC votes", length: 1_025, limit: 1_024))
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [], count: .max))
                == .overLimit("QC votes", length: 0xffff_ffff, limit: 1_024))
        // At the limit the count is accepted and the missing votes are what fails.
        #expect(decodeError(0x0203, Self.timeoutPayload(qcVotes: [], count: 1_024))?.category == .truncated)

        // TC entries.
        var tcLiar = Self.proposalPayload(tcEntries: [])
        #expect(Array(tcLiar[109..<113]) == [0, 0, 0, 0])             // after the flag (100) and TC view
        tcLiar.replaceSubrange(109..<113, with: Self.be(UInt32(1_025)))
        #expect(decodeError(0x0201, tcLiar) == .overLimit("TC entries", length: 1_025, limit: 1_024))

        // Block transactions: the count is the payload's last 4 bytes when the block has none.
        #expect(ConsensusLimits.maxBlockTransactions == 20_000)
        var block = encoded(Self.samples[5])
        #expect(Array(block.suffix(4)) == [0, 0, 0, 0])
        block.replaceSubrange((block.count - 4)..., with: Self.be(UInt32(20_001)))
        #expect(decodeError(0x0201, block) == .overLimit("block transactions", length: 20_001, limit: 20_000))
        block.replaceSubrange((block.count - 4)..., with: Self.be(UInt32(20_000)))
        #expect(decodeError(0x0201, block)?.category == .truncated)

        // Gossip batches: the count is the payload's first 4 bytes.
        #expect(ConsensusLimits.maxGossipBatch == 1_024)
        #expect(decodeError(0x0204, Self.be(UInt32(1_025)))
                == .overLimit("gossiped transactions", length: 1_025, limit: 1_024))
        #expect(decodeError(0x0204, Self.be(UInt32.max))
                == .overLimit("gossiped transactions", length: 0xffff_ffff, limit: 1_024))
        // The count is judged before any transaction is read: valid transactions after it change nothing.
        var batchLiar = encoded(.consensus(.transactions(Self.transactions)))
        batchLiar.replaceSubrange(0..<4, with: Self.be(UInt32(1_025)))
        #expect(decodeError(0x0204, batchLiar) == .overLimit("gossiped transactions", length: 1_025, limit: 1_024))
        #expect(decodeError(0x0204, Self.be(UInt32(1_024)))?.category == .truncated)
    }

    @Test func transactionPayloadOverFourKiBIsOverLimit() throws {
        #expect(Transaction.maxPayload == 4_096 && Transaction.overhead == 108)
        let full = Self.transaction(2, nonce: 0, payload: [UInt8](repeating: 0x5a, count: 4_096))
        #expect(try Message.decode(kind: 0x0204, payload: Message.consensus(.transactions([full])).encodePayload())
                == .consensus(.transactions([full])))
        let over = Self.transaction(2, nonce: 0, payload: [UInt8](repeating: 0x5a, count: 4_097))
        #expect(decodeError(0x0204, encoded(.consensus(.transactions([over]))))
                == .overLimit("transaction payload", length: 4_097, limit: 4_096))
        // Anywhere in a batch.
        #expect(decodeError(0x0204, encoded(.consensus(.transactions([Self.transactions[0], over, full]))))
                == .overLimit("transaction payload", length: 4_097, limit: 4_096))
        var liar = encoded(.consensus(.transactions([Self.transactions[1]])))
        liar.replaceSubrange(44..<48, with: [0xff, 0xff, 0xff, 0xff])     // after the batch count (4), sender, nonce
        #expect(decodeError(0x0204, liar) == .overLimit("transaction payload", length: 0xffff_ffff, limit: 4_096))
        // Inside a block, too.
        let block = Block(epoch: 0, view: 1, height: 1, parent: Block.genesisHash, justify: .genesis,
                          timeoutCertificate: nil, proposer: 0, transactions: [over])
        #expect(decodeError(0x0201, encoded(.consensus(.proposal(block))))
                == .overLimit("transaction payload", length: 4_097, limit: 4_096))
    }

    @Test func blockSyncMessagesRoundTripAndBoundTheirBlockCount() throws {
        let request = Message.consensus(.blockRequest(BlockRequest(target: Self.blockWithTC.hash, knownHeight: 9)))
        #expect(request.kind.rawValue == 0x0205)
        #expect(encoded(request) == Self.blockWithTC.hash.bytes + Self.be(UInt64(9)))
        #expect(try Message.decode(kind: 0x0205, payload: request.encodePayload()) == request)
        #expect(Fixture.seal(request).readableBytes == 195)
        let child = Block(epoch: Self.epoch, view: 13, height: 11, parent: Self.blockWithTC.hash,
                          justify: Self.qc(view: 12, block: Self.blockWithTC.hash, signers: [1, 2, 3]),
                          timeoutCertificate: nil, proposer: 1, transactions: [])
        let response = Message.consensus(.blockResponse(BlockResponse(blocks: [Self.blockWithTC, child])))
        #expect(response.kind.rawValue == 0x0206)
        #expect(try Message.decode(kind: 0x0206, payload: response.encodePayload()) == response)
        #expect(Array(encoded(response).prefix(4)) == [0, 0, 0, 2])
        #expect(ConsensusLimits.maxSyncBlocks == 64 && ConsensusLimits.maxSyncBytes == 2_097_152)
        // A sync answer that ends an epoch carries the proof that its last block is final.
        let proof = EpochProof(blocks: [child], certificate: Self.qc(view: 13, block: child.hash, signers: [1, 2, 3]))
        let ending = Message.consensus(.blockResponse(BlockResponse(blocks: [Self.blockWithTC], epochProof: proof)))
        #expect(try Message.decode(kind: 0x0206, payload: ending.encodePayload()) == ending)
        #expect(decodeError(0x0206, Self.be(UInt32(0)) + [3]) == .nonCanonical("sync epoch proof flag"))
        #expect(decodeError(0x0206, Self.be(UInt32(0)) + [1] + Self.be(UInt32(65)))
            == .overLimit("epoch proof blocks", length: 65, limit: 64))
        #expect(decodeError(0x0206, Self.be(UInt32(65))) == .overLimit("sync blocks", length: 65, limit: 64))
        #expect(decodeError(0x0206, Self.be(UInt32(64)))?.category == .truncated)
    }

    @Test func viewsAndHeightsAbove2To62AreRefused() {
        // A Byzantine validator's view of 2^64 − 1 would make `view + 1` trap in every receiver.
        let huge = Vote(epoch: Self.epoch, view: .max, blockHash: Self.parent, voter: Self.smallVote.voter)
        #expect(decodeError(0x0202, encoded(.consensus(.vote(huge)))) == .nonCanonical("vote view above 2^62"))
        let edge = Vote(epoch: Self.epoch, view: 1 << 62, blockHash: Self.parent, voter: Self.smallVote.voter)
        #expect(decodeError(0x0202, encoded(.consensus(.vote(edge)))) == nil)
        let highBlock = Block(epoch: Self.epoch, view: 3, height: (1 << 62) + 1, parent: Self.parent,
                              justify: Self.qc(view: 2, block: Self.parent, signers: [0, 1, 2]),
                              timeoutCertificate: nil, proposer: 3, transactions: [])
        #expect(decodeError(0x0201, encoded(.consensus(.proposal(highBlock)))) == .nonCanonical("block height above 2^62"))
    }

    // MARK: quorum, leader, and the sizes the transports rely on

    @Test func quorumIsMoreThanTwoThirdsOfThePowerAndLeadersRotate() {
        #expect(Self.four.quorumPower == 267)           // floor(2 × 400 / 3) + 1
        #expect(Self.validatorSet(3).quorumPower == 201)
        #expect(Self.four.power(of: [0, 1, 2]) >= Self.four.quorumPower)
        #expect(Self.four.power(of: [0, 1, 1, 9]) < Self.four.quorumPower)   // duplicates and unknown indices count once / not at all
        #expect((0..<9).map { Self.four.leader(of: $0) } == [0, 1, 2, 3, 0, 1, 2, 3, 0])
        #expect(Self.sixtyFour.leader(of: 130) == 2)
        // The genesis QC starts epoch 0 only; a later epoch starts from its own root, which
        // proves nothing on the wire.
        #expect(!QuorumCertificate.genesis.isValid(for: Self.four))
        #expect(QuorumCertificate.genesis.isValid(for: Self.validatorSet(4, epoch: 0)))
        #expect(!QuorumCertificate.root(of: Self.parent).isValid(for: Self.four))
    }

    @Test func aVoteFitsADatagram() {
        let buffer = Fixture.seal(.consensus(.vote(Self.smallVote)))
        #expect(buffer.readableBytes == Envelope.overhead + 114)
        #expect(buffer.readableBytes == 269)
        #expect(buffer.readableBytes <= Envelope.maxDatagramSize)
        #expect(Receiver().verdict(buffer) == .accepted(.consensus(.vote(Self.smallVote)), sender: Fixture.keyA.publicKey))
        // A timeout on a 4-validator network with a 3-vote QC fits too.
        let timeout = TimeoutVote(epoch: Self.epoch, view: 11, highQC: Self.qc(view: 10, block: Self.parent, signers: [0, 1, 2]),
                                  voter: Self.smallVote.voter)
        #expect(Fixture.seal(.consensus(.timeout(timeout))).readableBytes == 155 + 16 + 44 + 3 * 66 + 66 + 1)
        #expect(Fixture.seal(.consensus(.timeout(timeout))).readableBytes <= Envelope.maxDatagramSize)
    }

    /// Why large timeouts travel over streams: a 64-validator QC alone is 2,882 bytes.
    @Test func aTimeoutCarryingASixtyFourValidatorQCDoesNotFitADatagram() {
        let buffer = Fixture.seal(Self.samples[2])
        #expect(buffer.readableBytes == 155 + 16 + (44 + 43 * 66) + 66 + 1)
        #expect(buffer.readableBytes == 3_120)
        #expect(buffer.readableBytes > Envelope.maxDatagramSize)
        #expect(Receiver().verdict(buffer) == .dropped(.tooLarge))
        // The largest QC a timeout datagram can carry: 13 votes (1,140 bytes); 14 make 1,206.
        func size(_ votes: Int) -> Int {
            Fixture.seal(.consensus(.timeout(TimeoutVote(
                epoch: Self.epoch, view: 41, highQC: Self.qc(view: 40, block: Self.parent, signers: 0..<votes),
                voter: Self.smallVote.voter)))).readableBytes
        }
        #expect(size(13) == 1_140 && size(14) == 1_206)
        // So equal-power sets of up to 19 validators (quorum 13) send timeouts as datagrams; 20 need 14.
        func quorumVotes(_ count: Int) -> UInt64 { (Self.validatorSet(count).quorumPower + 99) / 100 }
        #expect(quorumVotes(19) == 13 && quorumVotes(20) == 14)
    }

    @Test func aSingleTransactionBatchUpToNineHundredThirtyThreePayloadBytesFitsADatagram() {
        func size(_ count: Int) -> Int {
            Fixture.seal(.consensus(.transactions([Self.transaction(0, nonce: 0, payload: [UInt8](repeating: 1, count: count))])))
                .readableBytes
        }
        #expect(Envelope.maxDatagramSize == 1_200)
        #expect(size(933) == 155 + 4 + 108 + 933 && size(933) == 1_200)
        #expect(size(934) == 1_201 && size(934) > Envelope.maxDatagramSize)
        #expect(size(Transaction.maxPayload) == 155 + 4 + 108 + 4_096 && size(Transaction.maxPayload) == 4_363)
        let largest = Self.transaction(0, nonce: 0, payload: [UInt8](repeating: 1, count: 933))
        let buffer = Fixture.seal(.consensus(.transactions([largest])))
        #expect(Receiver().verdict(buffer) == .accepted(.consensus(.transactions([largest])), sender: Fixture.keyA.publicKey))
        #expect(Receiver().verdict(Fixture.seal(.consensus(.transactions([
            Self.transaction(0, nonce: 0, payload: [UInt8](repeating: 1, count: 934))])))) == .dropped(.tooLarge))
    }

    @Test func batchEnvelopeSizes() {
        func size(_ batch: [Transaction]) -> Int { Fixture.seal(.consensus(.transactions(batch))).readableBytes }
        #expect(size([]) == 159)
        // Empty-payload transactions (108 bytes each): 9 fit a datagram (1,131 bytes), 10 do not (1,239).
        let empties = (0..<10).map { Self.transaction(0, nonce: UInt64($0), payload: []) }
        #expect(size(Array(empties.prefix(9))) == 1_131)
        #expect(size(empties) == 1_239 && size(empties) > Envelope.maxDatagramSize)
        #expect(size(Self.transactions) == 159 + 3 * 108 + 17 + 300)
    }
}
