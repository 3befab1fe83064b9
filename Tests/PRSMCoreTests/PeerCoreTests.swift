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

    /// The address book saves the most recently seen peers, at most `maxSavedPeers`, in key order.
    @Test func theAddressBookSavesTheFreshestPeers() throws {
        var config = PeerCore.Config()
        config.maxSavedPeers = 2
        var core = PeerCore(config: config)
        let keys = try (10..<14).map { try SigningKey(seed: [UInt8](repeating: $0, count: 32)).publicKey }
        for (index, key) in keys.enumerated() {
            core.noteContact(key, at: .ipv4(127, 0, 3, UInt8(index + 1), port: 7700), nowMs: UInt64(100 + index))
        }
        #expect(core.knownPeers.count == 4)
        #expect(core.peersToSave.map(\.key) == [keys[2], keys[3]].sorted())
        core.noteContact(keys[0], at: .ipv4(127, 0, 3, 1, port: 7700), nowMs: 200)
        #expect(core.peersToSave.map(\.key) == [keys[0], keys[3]].sorted())
    }

    /// The table keeps a peer that listens where its messages come from without a listen-address
    /// array; when its messages later come from elsewhere, what its Hello announced stays.
    @Test func aPeerThatMovesKeepsTheListenAddressesItAnnounced() throws {
        var core = PeerCore(config: PeerCore.Config(networkID: network))
        let hello = Hello(version: PeerCore.protocolVersion, networkID: network, listenAddresses: [bobAddress],
                          roles: [.validator])
        _ = core.handle(inbound(.hello(hello), from: bob, at: bobAddress), nowMs: 10)
        #expect(core.knownPeers.first?.listenAddresses == [bobAddress])
        let moved = PeerAddress.ipv4(127, 0, 2, 9, port: 7701)
        _ = core.handle(inbound(.ping(Ping(nonce: 1)), from: bob, at: moved), nowMs: 20)
        let peer = try #require(core.knownPeers.first)
        #expect(peer.address == moved)
        #expect(peer.listenAddresses == [bobAddress])
        #expect(peer.roles == [.validator])

        // A Hello announcing another address as well keeps both; the address book restores all of it.
        let elsewhere = PeerAddress.ipv4(127, 0, 2, 2, port: 7700)
        let both = Hello(version: PeerCore.protocolVersion, networkID: network, listenAddresses: [moved, elsewhere],
                         roles: [.validator])
        _ = core.handle(inbound(.hello(both), from: bob, at: moved), nowMs: 30)
        var restored = PeerCore(config: PeerCore.Config(networkID: network))
        restored.restore(core.peersToSave)
        #expect(restored.knownPeers == core.knownPeers)
        #expect(restored.knownPeers.first?.listenAddresses == both.listenAddresses)
        #expect(both.listenAddresses.count == 2)
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

/// The Hello handshake, bans in the peer core, and what the core feeds its reachability tracker.
struct PeerCoreHandshakeTests {
    let network = Devnet.genesis.networkID
    let otherNetwork = try! Digest32([UInt8](repeating: 7, count: 32))
    let alice = try! SigningKey(seed: [UInt8](repeating: 1, count: 32))
    let bob = try! SigningKey(seed: [UInt8](repeating: 2, count: 32))
    let carol = try! SigningKey(seed: [UInt8](repeating: 3, count: 32))
    let aliceAddress = PeerAddress.ipv4(127, 0, 1, 1, port: 7700)
    let bobAddress = PeerAddress.ipv4(127, 0, 2, 1, port: 7700)
    let carolAddress = PeerAddress.ipv4(127, 0, 3, 1, port: 7700)

    func inbound(_ message: Message, from key: SigningKey, at address: PeerAddress) -> Inbound {
        let bytes = Envelope.seal(message, networkID: network, key: key, sequence: 1, timestamp: 1)
        return Inbound(envelope: try! Envelope.parse(bytes), message: message, source: address)
    }

    func core(listen: [PeerAddress] = [], roles: Roles = [.client], configure: (inout PeerCore.Config) -> Void = { _ in })
        -> PeerCore {
        var config = PeerCore.Config(networkID: network, listenAddresses: listen, roles: roles)
        configure(&config)
        return PeerCore(config: config)
    }

    @Test func handshakeCompletesOnBothSides() {
        var a = core(listen: [aliceAddress], roles: [.validator])
        var b = core(listen: [bobAddress], roles: [.provider, .client])
        #expect(a.hello == Hello(version: PeerCore.protocolVersion, networkID: network,
                                 listenAddresses: [aliceAddress], roles: [.validator]))

        let opened = a.startHandshake(to: bobAddress, nowMs: 100)
        #expect(opened == [.send(.hello(a.hello), to: bobAddress)])
        #expect(a.outstandingHandshakeCount == 1)

        let answered = b.handle(inbound(.hello(a.hello), from: alice, at: aliceAddress), nowMs: 110)
        #expect(answered == [.send(.helloReply(HelloReply(hello: b.hello, observedAddress: aliceAddress)),
                                   to: aliceAddress)])
        #expect(b.knownPeers.map(\.key) == [alice.publicKey])
        #expect(b.knownPeers.first?.roles == [.validator])
        #expect(b.knownPeers.first?.listenAddresses == [aliceAddress])

        let reply = Message.helloReply(HelloReply(hello: b.hello, observedAddress: aliceAddress))
        let completed = a.handle(inbound(reply, from: bob, at: bobAddress), nowMs: 120)
        #expect(completed == [.handshakeCompleted(peer: bob.publicKey, address: bobAddress,
                                                  observedAddress: aliceAddress)])
        #expect(a.outstandingHandshakeCount == 0)
        #expect(a.knownPeers.first?.key == bob.publicKey)
        #expect(a.knownPeers.first?.roles == [.provider, .client])
        #expect(a.knownPeers.first?.listenAddresses == [bobAddress])
        #expect(a.scores.score(of: bob.publicKey, nowMs: 120) == 1)
        // The same reply again is no longer solicited.
        #expect(a.handle(inbound(reply, from: bob, at: bobAddress), nowMs: 130) == [.ignored(.unexpected)])
    }

    @Test func helloOfAnotherNetworkIsRefusedWithReasonAndNoReply() {
        var b = core()
        let foreign = Hello(version: PeerCore.protocolVersion, networkID: otherNetwork, listenAddresses: [], roles: [])
        let effects = b.handle(inbound(.hello(foreign), from: alice, at: aliceAddress), nowMs: 50)
        #expect(effects.count == 2)
        #expect(effects.first == .handshakeRefused(sender: alice.publicKey, address: aliceAddress, reason: .wrongNetwork))
        guard case let .evidence(evidence)? = effects.last else {
            Issue.record("no evidence in \(effects)")
            return
        }
        #expect(evidence.subject == .key(alice.publicKey))
        #expect(evidence.kind == .wrongNetwork)
        #expect(evidence.atMs == 50)
        #expect(evidence.detail.contains(otherNetwork.hex))
        #expect(!effects.contains { if case .send = $0 { return true } else { return false } })
        #expect(b.peerCount == 0)
        // A Hello contradicting its own (network-checked) envelope costs an invalid message.
        #expect(b.scores.score(of: alice.publicKey, nowMs: 50) == -10)
    }

    @Test func helloOfAnotherVersionIsRefused() {
        var b = core()
        let future = Hello(version: PeerCore.protocolVersion + 1, networkID: network, listenAddresses: [], roles: [])
        let effects = b.handle(inbound(.hello(future), from: alice, at: aliceAddress), nowMs: 50)
        #expect(effects.first == .handshakeRefused(sender: alice.publicKey, address: aliceAddress,
                                                   reason: .unsupportedVersion))
        guard case let .evidence(evidence)? = effects.last else {
            Issue.record("no evidence in \(effects)")
            return
        }
        #expect(evidence.kind == .unsupportedVersion)
        #expect(effects.count == 2)
        #expect(b.peerCount == 0)
        // An old or new build is not punished.
        #expect(b.scores.score(of: alice.publicKey, nowMs: 50) == 0)
    }

    @Test func helloReplyOfAnotherNetworkDoesNotCompleteTheHandshake() {
        var a = core()
        _ = a.startHandshake(to: bobAddress, nowMs: 0)
        let foreign = Hello(version: PeerCore.protocolVersion, networkID: otherNetwork, listenAddresses: [], roles: [])
        let effects = a.handle(inbound(.helloReply(HelloReply(hello: foreign, observedAddress: aliceAddress)),
                                       from: bob, at: bobAddress), nowMs: 10)
        #expect(effects.first == .handshakeRefused(sender: bob.publicKey, address: bobAddress, reason: .wrongNetwork))
        #expect(!effects.contains { if case .handshakeCompleted = $0 { return true } else { return false } })
        #expect(a.peerCount == 0)
        #expect(a.outstandingHandshakeCount == 0)
    }

    @Test func unsolicitedOrMisdirectedHelloReplyIsIgnored() {
        var a = core()
        let b = core()
        let reply = Message.helloReply(HelloReply(hello: b.hello, observedAddress: aliceAddress))
        #expect(a.handle(inbound(reply, from: bob, at: bobAddress), nowMs: 1) == [.ignored(.unexpected)])
        _ = a.startHandshake(to: bobAddress, nowMs: 1)
        #expect(a.handle(inbound(reply, from: bob, at: carolAddress), nowMs: 2) == [.ignored(.unexpected)])
        #expect(a.outstandingHandshakeCount == 1)
        #expect(a.peerCount == 0)
    }

    @Test func handshakesTimeOutAndLateRepliesAreIgnored() {
        var a = core { $0.handshakeTimeoutMs = 1_000 }
        let b = core()
        _ = a.handle(inbound(.ping(Ping(nonce: 1)), from: bob, at: bobAddress), nowMs: 0)  // bob is known
        _ = a.startHandshake(to: bobAddress, nowMs: 0)
        _ = a.startHandshake(to: carolAddress, nowMs: 500)
        #expect(a.expire(nowMs: 999).isEmpty)
        #expect(a.expire(nowMs: 1_000) == [.handshakeTimedOut(address: bobAddress)])
        #expect(a.scores.score(of: bob.publicKey, nowMs: 1_000) == -2)
        #expect(a.expire(nowMs: 1_500) == [.handshakeTimedOut(address: carolAddress)])
        let late = Message.helloReply(HelloReply(hello: b.hello, observedAddress: aliceAddress))
        #expect(a.handle(inbound(late, from: bob, at: bobAddress), nowMs: 1_600) == [.ignored(.unexpected)])
    }

    @Test func outstandingHandshakesStayBounded() {
        var a = core { $0.maxOutstandingHandshakes = 2 }
        _ = a.startHandshake(to: bobAddress, nowMs: 0)
        _ = a.startHandshake(to: carolAddress, nowMs: 1)
        let third = a.startHandshake(to: aliceAddress, nowMs: 2)
        #expect(third == [.handshakeTimedOut(address: bobAddress), .send(.hello(a.hello), to: aliceAddress)])
        #expect(a.outstandingHandshakeCount == 2)
    }

    @Test func unconfiguredCoreRefusesRealNetworks() {
        var b = PeerCore()
        let effects = b.handle(inbound(.hello(core().hello), from: alice, at: aliceAddress), nowMs: 0)
        #expect(effects.first == .handshakeRefused(sender: alice.publicKey, address: aliceAddress, reason: .wrongNetwork))
    }

    @Test func dhtMessagesAreLeftToTheDHTCore() {
        var b = core()
        let find = Message.dht(.findNode(FindNode(header: DHTRequestHeader(requestID: 1, serverMode: true),
                                                 target: alice.publicKey.nodeID)))
        #expect(b.handle(inbound(find, from: alice, at: aliceAddress), nowMs: 0) == [])
        #expect(b.peerCount == 0)
    }

    @Test func invalidMessagesBanAKeyWhoseMessagesAreThenIgnored() {
        var b = core()
        _ = b.handle(inbound(.ping(Ping(nonce: 1)), from: alice, at: aliceAddress), nowMs: 0)
        for _ in 0..<4 { #expect(b.recordInvalidMessage(from: alice.publicKey, nowMs: 10).isEmpty) }
        let banned = b.recordInvalidMessage(from: alice.publicKey, nowMs: 10)
        guard case let .evidence(evidence)? = banned.first, banned.count == 1 else {
            Issue.record("expected one evidence, got \(banned)")
            return
        }
        #expect(evidence.kind == .banned)
        #expect(evidence.subject == .key(alice.publicKey))
        #expect(b.peerCount == 0)
        #expect(b.isBanned(key: alice.publicKey, nowMs: 11))
        let ping = inbound(.ping(Ping(nonce: 2)), from: alice, at: aliceAddress)
        #expect(b.handle(ping, nowMs: 11) == [.ignored(.unexpected)])
        // Other keys on the same address are not affected by a key ban.
        #expect(b.handle(inbound(.ping(Ping(nonce: 3)), from: carol, at: aliceAddress), nowMs: 11)
            == [.send(.pong(Pong(nonce: 3, observedAddress: aliceAddress)), to: aliceAddress)])
        // After the ban, the key is heard again.
        _ = b.expire(nowMs: 10 + 3_600_000)
        #expect(b.handle(ping, nowMs: 10 + 3_600_000).count == 1)
        #expect(!b.isBanned(key: alice.publicKey, nowMs: 10 + 3_600_000))
    }

    @Test func rateLimitViolationsBanAnIPWhateverThePort() {
        var b = core()
        var evidence: [PeerCore.Effect] = []
        for _ in 0..<10 { evidence += b.recordRateLimited(source: aliceAddress, nowMs: 5) }
        #expect(evidence.count == 1)
        guard case let .evidence(ban)? = evidence.first else { return }
        #expect(ban.subject == .ip([127, 0, 1, 1]))
        let otherPort = PeerAddress.ipv4(127, 0, 1, 1, port: 9)
        #expect(b.handle(inbound(.ping(Ping(nonce: 1)), from: carol, at: otherPort), nowMs: 6) == [.ignored(.unexpected)])
        #expect(b.startHandshake(to: otherPort, nowMs: 6).isEmpty)
        #expect(b.handle(inbound(.ping(Ping(nonce: 1)), from: carol, at: bobAddress), nowMs: 6).count == 1)
    }

    @Test func pingTimeoutsCostScoreAndPongsEarnIt() {
        var a = core()
        _ = a.handle(inbound(.ping(Ping(nonce: 1)), from: bob, at: bobAddress), nowMs: 0)
        _ = a.startPing(to: bobAddress, nonce: 5, nowMs: 0)
        _ = a.expire(nowMs: 5_000)
        #expect(a.scores.score(of: bob.publicKey, nowMs: 5_000) == -2)
        _ = a.startPing(to: bobAddress, nonce: 6, nowMs: 5_000)
        _ = a.handle(inbound(.pong(Pong(nonce: 6, observedAddress: aliceAddress)), from: bob, at: bobAddress),
                     nowMs: 5_010)
        #expect(a.scores.score(of: bob.publicKey, nowMs: 5_010) == -1)
    }

    @Test func observedAddressesFromAnswersConfirmOurAddress() {
        var a = core()
        let public1 = PeerAddress.ipv4(203, 0, 113, 9, port: 4000)
        _ = a.startPing(to: bobAddress, nonce: 1, nowMs: 0)
        _ = a.startHandshake(to: carolAddress, nowMs: 0)
        let first = a.handle(inbound(.pong(Pong(nonce: 1, observedAddress: public1)), from: bob, at: bobAddress),
                             nowMs: 1)
        #expect(!first.contains(.addressConfirmed(public1)))
        #expect(a.reachability.confirmedAddress == nil)
        let c = core()
        let second = a.handle(inbound(.helloReply(HelloReply(hello: c.hello, observedAddress: public1)),
                                      from: carol, at: carolAddress), nowMs: 2)
        #expect(second.contains(.addressConfirmed(public1)))
        #expect(a.reachability.confirmedAddress == public1)
        // Unsolicited Pongs carry no vote.
        let unsolicited = PeerAddress.ipv4(198, 51, 100, 1, port: 1)
        _ = a.handle(inbound(.pong(Pong(nonce: 99, observedAddress: unsolicited)), from: bob, at: bobAddress), nowMs: 3)
        #expect(a.reachability.reporters(of: unsolicited) == 0)
    }
}
