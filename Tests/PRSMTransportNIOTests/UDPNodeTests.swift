import NIOCore
import NIOPosix
import PRSMNode
import Testing
@testable import PRSMTransportNIO

@Suite(.timeLimit(.minutes(1)))
struct UDPNodeTests {
    @Test func twoNodesPingEachOtherOverLoopbackIPv4() async throws {
        let a = try await LiveNode(address: .ipv4(127, 0, 21, 1, port: 0))
        let b = try await LiveNode(address: .ipv4(127, 0, 22, 1, port: 0))
        #expect(a.address.port != 0)
        let reply = await b.ping(a.address)
        #expect(reply?.peer == a.key.publicKey)
        #expect(reply?.observedAddress == b.address)
        let back = await a.ping(b.address)
        #expect(back?.peer == b.key.publicKey)
        #expect(await a.node.knownPeers.map(\.key) == [b.key.publicKey])
        await a.stop()
        await b.stop()
    }

    @Test func pingWorksOverIPv6Loopback() async throws {
        let a = try await LiveNode(address: try PeerAddress(parsing: "[::1]:0"))
        let b = try await LiveNode(address: try PeerAddress(parsing: "[::1]:0"))
        let reply = await b.ping(a.address)
        #expect(reply?.peer == a.key.publicKey)
        await a.stop()
        await b.stop()
    }

    @Test func nodeOnAnotherNetworkIsNotAnsweredAndCountsWrongNetwork() async throws {
        var params = Genesis.Parameters()
        params.epochLength = 7
        let other = try Genesis(name: "othernet", timeMs: 1, parameters: params, accounts: [],
                                validators: [.init(publicKey: Devnet.validatorKey(0).publicKey, nodeKey: Devnet.validatorKey(0).publicKey, power: 1)])
        let a = try await LiveNode(address: .ipv4(127, 0, 23, 1, port: 0))
        let stranger = try await LiveNode(address: .ipv4(127, 0, 24, 1, port: 0), genesis: other) {
            $0.peers.pingTimeoutMs = 300
        }
        #expect(await stranger.ping(a.address) == nil)
        #expect(await eventually(seconds: 2) { await a.node.dropCounters[.wrongNetwork] == 1 })
        #expect(await a.node.dropCounters.accepted == 0)
        await a.stop()
        await stranger.stop()
    }

    @Test func oversizedDatagramIsCountedNotTruncated() async throws {
        let a = try await LiveNode(address: .ipv4(127, 0, 25, 1, port: 0))
        let sender = try await UDPTransport.bind(.ipv4(127, 0, 26, 1, port: 0))
        // A real envelope padded past the limit: truncating it to the limit must not make it parse.
        sender.send(ByteBuffer(bytes: [UInt8](repeating: 0x50, count: Envelope.maxDatagramSize + 300)), to: a.address)
        sender.send(ByteBuffer(bytes: [UInt8](repeating: 0x50, count: Envelope.maxDatagramSize + 1)), to: a.address)
        #expect(await eventually(seconds: 2) { await a.node.dropCounters[.tooLarge] == 2 })
        await sender.close()
        await a.stop()
    }
}
