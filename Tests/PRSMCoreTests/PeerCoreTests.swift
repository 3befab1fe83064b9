import NIOCore
import Testing
@testable import PRSMCore

struct PeerCoreTests {
    let network = Devnet.genesis.networkID
    let alice = try! SigningKey(seed: [UInt8](repeating: 1, count: 32))
    let bob = try! SigningKey(seed: [UInt8](repeating: 2, count: 32))
    let aliceAddress = PeerAddress.ipv4(127, 0, 1, 1, port: 7700)
    let bobAddress = PeerAddress.ipv4(127, 0, 2, 1, port: 7700)

    func inbound(_ message: Message, from key: SigningKey, at address: PeerAddress) -> Inbound {
        let bytes = Envelope.seal(message, networkID: network, key: key, sequence: 1, timestamp: 1)
        return Inbound(envelope: try! Envelope.parse(bytes), message: message, source: address)
    }

    @Test func pingIsAnsweredWithSameNonceAndObservedAddress() {
        var core = PeerCore()
        let effects = core.handle(inbound(.ping(Ping(nonce: 42)), from: bob, at: bobAddress), nowMs: 10)
        #expect(effects == [.send(.pong(Pong(nonce: 42, observedAddress: bobAddress)), to: bobAddress)])
        #expect(core.knownPeers.map(\.key) == [bob.publicKey])
    }

    @Test func pongCompletesOutstandingPingWithRoundTripTime() {
        var core = PeerCore()
        #expect(core.startPing(to: bobAddress, nonce: 7, nowMs: 100) == [.send(.ping(Ping(nonce: 7)), to: bobAddress)])
        let effects = core.handle(inbound(.pong(Pong(nonce: 7, observedAddress: aliceAddress)), from: bob, at: bobAddress),
                                  nowMs: 130)
        #expect(effects == [.pingAnswered(PingReply(nonce: 7, peer: bob.publicKey, address: bobAddress,
                                                    observedAddress: aliceAddress, rttMs: 30))])
        #expect(core.outstandingCount == 0)
        #expect(core.knownPeers.first?.rttMs == 30)
    }

    @Test func unsolicitedOrMisdirectedPongIsIgnored() {
        var core = PeerCore()
        let pong = Message.pong(Pong(nonce: 9, observedAddress: aliceAddress))
        #expect(core.handle(inbound(pong, from: bob, at: bobAddress), nowMs: 1) == [.ignored(.unexpected)])
        _ = core.startPing(to: bobAddress, nonce: 9, nowMs: 1)
        let elsewhere = PeerAddress.ipv4(127, 0, 9, 1, port: 1)
        #expect(core.handle(inbound(pong, from: bob, at: elsewhere), nowMs: 2) == [.ignored(.unexpected)])
        #expect(core.outstandingCount == 1)
    }

    @Test func pingsTimeOutInNonceOrder() {
        var config = PeerCore.Config()
        config.pingTimeoutMs = 100
        var core = PeerCore(config: config)
        _ = core.startPing(to: bobAddress, nonce: 5, nowMs: 0)
        _ = core.startPing(to: aliceAddress, nonce: 3, nowMs: 50)
        #expect(core.expire(nowMs: 99).isEmpty)
        #expect(core.expire(nowMs: 100) == [.pingTimedOut(nonce: 5, address: bobAddress)])
        #expect(core.expire(nowMs: 150) == [.pingTimedOut(nonce: 3, address: aliceAddress)])
    }

    @Test func tablesStayBounded() {
        var config = PeerCore.Config()
        config.maxPeers = 8
        config.maxOutstandingPings = 4
        var core = PeerCore(config: config)
        for i in 0..<50 {
            let key = try! SigningKey(seed: [UInt8](repeating: UInt8(i + 10), count: 32))
            _ = core.handle(inbound(.ping(Ping(nonce: UInt64(i))), from: key, at: bobAddress), nowMs: UInt64(i))
            _ = core.startPing(to: bobAddress, nonce: UInt64(1_000 + i), nowMs: UInt64(i))
        }
        #expect(core.peerCount == 8)
        #expect(core.outstandingCount == 4)
        // The most recently seen peers are the ones kept.
        #expect(core.knownPeers.allSatisfy { $0.lastSeenMs >= 42 })
    }
}
