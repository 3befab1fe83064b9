import Foundation
import NIOCore
import PRSMNode
import Synchronization
import Testing
@testable import PRSMTransportNIO

/// A request that reaches a node on a stream (other than a Submission) is answered at the
/// address the requester is known by: the stream's source is its outgoing port, where nothing
/// listens.
@Suite(.timeLimit(.minutes(2)))
struct StreamAnswerTests {
    @Test func aBlockRequestByStreamIsAnsweredAtTheRequestersKnownAddress() async throws {
        let validator = Devnet.validatorKey(0)
        // One validator: it commits on its own.
        let genesis = try Genesis(name: "solo", timeMs: Devnet.genesis.timeMs, accounts: [],
                                  validators: [.init(publicKey: validator.publicKey, nodeKey: validator.publicKey, power: 1)])
        let requester = SigningKey.generate()
        let requesterStreams = try await TCPStreamTransport.listen(.ipv4(127, 0, 56, 1, port: 0))
        let received = Mutex<[ByteBuffer]>([])
        let listener = Task { await requesterStreams.serve { stream in
            while let frame = try? await stream.receive() { received.withLock { $0.append(frame) } }
        } }
        let node = try await LiveNode(address: .ipv4(127, 0, 55, 1, port: 0), key: validator, genesis: genesis,
                                      streams: true) { options in
            options.consensus = ConsensusOptions(validatorKey: validator,
                                                 directory: [requester.publicKey: [requesterStreams.localAddress]])
        }
        #expect(await eventually(seconds: 60) { await (node.node.consensusStatus?.committedHeight ?? 0) >= 2 })

        let now = UInt64(Date().timeIntervalSince1970 * 1_000)
        let request = Envelope.seal(.consensus(.blockRequest(BlockRequest(target: .zero, knownHeight: 0))),
                                    networkID: genesis.networkID, key: requester, sequence: now << 16, timestamp: now)
        let clientSide = try await TCPStreamTransport.listen(.ipv4(127, 0, 57, 1, port: 0))
        // The request's stream stays open until the answer has come another way.
        let answered = try await clientSide.withStream(to: node.address) { stream in
            try await stream.send(request)
            return await eventually(seconds: 30) { !received.withLock { $0 }.isEmpty }
        }
        #expect(answered)
        let frame = try #require(received.withLock { $0 }.first)
        let envelope = try Envelope.parse(frame)
        #expect(envelope.sender == validator.publicKey && envelope.hasValidSignature(in: frame))
        guard case let .consensus(.blockResponse(response)) = try Message.decode(kind: envelope.kind, payload: envelope.payload) else {
            Issue.record("the answer is not a BlockResponse")
            return
        }
        #expect(response.blocks.first?.height == 1)
        // The node first: its outgoing stream to the requester ends with it.
        await node.stop()
        await clientSide.close()
        await requesterStreams.close()
        await listener.value
    }
}
