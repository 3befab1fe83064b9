import Foundation
import NIOCore
import PRSMNode
import Synchronization
import Testing
@testable import PRSMTransportNIO

/// A client submits transactions to a validator over real TCP and UDP and reads the report that
/// answers each submission: on its own stream, or as a datagram to its source.
@Suite(.timeLimit(.minutes(2)))
struct SubmissionTests {
    /// Devnet validator 0 with room for two transactions; the other validators' addresses
    /// exist in its directory but nothing listens there (no block is ever committed).
    static func validator(maxTransactions: Int = 2) async throws -> LiveNode {
        let directory = Dictionary(uniqueKeysWithValues: (1..<Devnet.validatorCount).map {
            (Devnet.nodeKey($0).publicKey, [PeerAddress.ipv4(127, 0, 51, UInt8($0), port: 7700)])
        })
        return try await LiveNode(address: .ipv4(127, 0, 50, 1, port: 0), key: Devnet.nodeKey(0), streams: true) { options in
            var consensus = ConsensusOptions(validatorKey: Devnet.validatorKey(0), directory: directory)
            consensus.replica.mempool.maxTransactions = maxTransactions
            options.consensus = consensus
        }
    }

    static func transaction(_ client: SigningKey, nonce: UInt64, payload: String = "k=v",
                            networkID: Digest32 = Devnet.genesis.networkID) -> Transaction {
        Transaction.signed(by: client, networkID: networkID, nonce: nonce, payload: Array(payload.utf8))
    }

    static func seal(_ message: ConsensusMessage, by key: SigningKey) -> ByteBuffer {
        let now = UInt64(Date().timeIntervalSince1970 * 1_000)
        return Envelope.seal(.consensus(message), networkID: Devnet.genesis.networkID, key: key, sequence: now << 16, timestamp: now)
    }

    /// The report in `bytes`, checked to be signed by `validator` for the devnet.
    static func report(in bytes: ByteBuffer, from validator: PublicKey) throws -> TransactionReport? {
        let envelope = try Envelope.parse(bytes)
        #expect(envelope.sender == validator && envelope.hasValidSignature(in: bytes))
        guard case let .consensus(.transactionReport(report)) = try Message.decode(kind: envelope.kind, payload: envelope.payload)
        else { return nil }
        return report
    }

    @Test func aStreamClientLearnsWhatWasAdmittedAndWhyTheRestWasRefused() async throws {
        let node = try await Self.validator()
        let client = SigningKey.generate()
        let admitted = [Self.transaction(client, nonce: 0), Self.transaction(client, nonce: 1)]
        let wrongNetwork = Self.transaction(client, nonce: 2, networkID: Blake2b.hash256(Array("another network".utf8)))
        let overflow = Self.transaction(client, nonce: 2)
        let streams = try await TCPStreamTransport.listen(.ipv4(127, 0, 52, 1, port: 0))

        let (first, second) = try await streams.withStream(to: node.address) { stream in
            // The badly signed one first: a full pool refuses before any signature is checked.
            try await stream.send(Self.seal(.submission([wrongNetwork] + admitted), by: client))
            let first = try await stream.receive()
            try await stream.send(Self.seal(.submission([overflow]), by: client))
            return (first, try await stream.receive())
        }
        let firstFrame = try #require(first)
        let secondFrame = try #require(second)
        let firstReport = try #require(try Self.report(in: firstFrame, from: node.key.publicKey))
        #expect(firstReport.admitted == 2)
        #expect(firstReport.refused == [TransactionRefusal(hash: wrongNetwork.hash, reason: .badSignature)])
        let secondReport = try #require(try Self.report(in: secondFrame, from: node.key.publicKey))
        #expect(secondReport == TransactionReport(admitted: 0, refused: [TransactionRefusal(hash: overflow.hash, reason: .poolFull)]))
        #expect(secondReport.refused[0].reason.isTemporary)
        #expect(await node.node.consensusStatus?.mempool == 2)
        await streams.close()
        await node.stop()
    }

    @Test func aDatagramClientGetsTheReportWithoutTexts() async throws {
        let node = try await Self.validator()
        let client = SigningKey.generate()
        let socket = try await UDPTransport.bind(.ipv4(127, 0, 53, 1, port: 0))
        let received = Mutex<[ByteBuffer]>([])
        let reader = Task { await socket.deliver { batch in received.withLock { $0 += batch.map(\.bytes) } } }
        let malformed = Self.transaction(client, nonce: 0, payload: "no equals sign")
        socket.send(Self.seal(.submission([malformed]), by: client), to: node.address)

        #expect(await eventually(seconds: 30) { !received.withLock { $0 }.isEmpty })
        let report = try #require(try received.withLock { $0 }.first.flatMap { try Self.report(in: $0, from: node.key.publicKey) })
        #expect(report == TransactionReport(admitted: 0, refused: [TransactionRefusal(hash: malformed.hash, reason: .rejected)]))
        await socket.close()
        await reader.value
        await node.stop()
    }

    /// A Submission of 1,024 is checked in slices: the node answers other calls while it runs
    /// (here, status queries that see the mempool part-filled), not only before or after it.
    @Test func aLargeSubmissionLetsOtherWorkRunBetweenItsSlices() async throws {
        let node = try await Self.validator(maxTransactions: 20_000)
        let clients = (0..<8).map { _ in SigningKey.generate() }
        let batch = (0..<ConsensusLimits.maxGossipBatch).map {
            Self.transaction(clients[$0 % clients.count], nonce: UInt64($0 / clients.count))
        }
        let streams = try await TCPStreamTransport.listen(.ipv4(127, 0, 58, 1, port: 0))
        let seen = Mutex<Set<Int>>([])
        let full = batch.count
        // Ask the node for its mempool size until it holds the whole batch.
        let poller = Task {
            while !Task.isCancelled, (seen.withLock { $0.max() ?? 0 }) < full {
                let size = await node.node.consensusStatus?.mempool ?? 0
                seen.withLock { _ = $0.insert(size) }
                await Task.yield()
            }
        }
        let report = try await streams.withStream(to: node.address) { stream in
            try await stream.send(Self.seal(.submission(batch), by: clients[0]))
            return try await stream.receive()
        }
        await poller.value  // the whole batch is pending before the report leaves
        let answer = try #require(try report.flatMap { try Self.report(in: $0, from: node.key.publicKey) })
        #expect(answer == TransactionReport(admitted: UInt32(batch.count), refused: []))
        let partial = seen.withLock { $0.filter { $0 > 0 && $0 < batch.count } }
        #expect(!partial.isEmpty, "the node answered only before or after the whole batch: \(seen.withLock { $0.sorted() })")
        await streams.close()
        await node.stop()
    }
}
