import NIOCore
import Testing
@testable import PRSMCore

struct ReachabilityTests {
    static func key(_ n: UInt8) -> SigningKey { try! SigningKey(seed: [UInt8](repeating: n, count: 32)) }
    let network = Devnet.genesis.networkID
    let public1 = PeerAddress.ipv4(203, 0, 113, 9, port: 4000)
    let public2 = PeerAddress.ipv4(203, 0, 113, 9, port: 4001)

    // MARK: observed addresses

    @Test func confirmedAddressNeedsTwoPeersFromDistinctPrefixes() {
        var r = Reachability()
        let (k1, k2, k3) = (Self.key(1).publicKey, Self.key(2).publicKey, Self.key(3).publicKey)
        #expect(r.observe(public1, reportedBy: k1, reporterAddress: .ipv4(10, 0, 1, 5, port: 1), nowMs: 0).isEmpty)
        // A second peer in the same /24 is not independent enough.
        #expect(r.observe(public1, reportedBy: k2, reporterAddress: .ipv4(10, 0, 1, 6, port: 1), nowMs: 1).isEmpty)
        #expect(r.confirmedAddress == nil)
        #expect(r.reporters(of: public1) == 2)
        let effects = r.observe(public1, reportedBy: k3, reporterAddress: .ipv4(10, 0, 2, 5, port: 1), nowMs: 2)
        #expect(effects == [.addressConfirmed(public1)])
        #expect(r.confirmedAddress == public1)
        // Confirming again announces nothing new.
        #expect(r.observe(public1, reportedBy: k1, reporterAddress: .ipv4(10, 0, 1, 5, port: 1), nowMs: 3).isEmpty)
    }

    @Test func onePeerCannotConfirmAloneFromManyPrefixes() {
        var r = Reachability()
        let k1 = Self.key(1).publicKey
        for subnet in UInt8(1)...5 {
            _ = r.observe(public1, reportedBy: k1, reporterAddress: .ipv4(10, 0, subnet, 5, port: 1), nowMs: UInt64(subnet))
        }
        #expect(r.confirmedAddress == nil)
        #expect(r.reporters(of: public1) == 1)
    }

    @Test func aPeerHasOneVotePerFamilyAndTalliesAreBounded() {
        var config = Reachability.Config()
        config.maxCandidates = 3
        var r = Reachability(config: config)
        let k1 = Self.key(1).publicKey
        _ = r.observe(public1, reportedBy: k1, reporterAddress: .ipv4(10, 0, 1, 5, port: 1), nowMs: 0)
        _ = r.observe(public2, reportedBy: k1, reporterAddress: .ipv4(10, 0, 1, 5, port: 1), nowMs: 1)
        #expect(r.reporters(of: public1) == 0)
        #expect(r.reporters(of: public2) == 1)
        for n in UInt8(10)..<30 {
            _ = r.observe(.ipv4(198, 51, 100, n, port: 1), reportedBy: Self.key(n).publicKey,
                          reporterAddress: .ipv4(10, 0, n, 1, port: 1), nowMs: UInt64(n))
        }
        #expect(r.candidateCount == 3)
    }

    @Test func oldReportsStopCounting() {
        var r = Reachability()
        _ = r.observe(public1, reportedBy: Self.key(1).publicKey, reporterAddress: .ipv4(10, 0, 1, 5, port: 1), nowMs: 0)
        _ = r.observe(public1, reportedBy: Self.key(2).publicKey, reporterAddress: .ipv4(10, 0, 2, 5, port: 1), nowMs: 0)
        #expect(r.confirmedAddress == public1)
        _ = r.expire(nowMs: 1_800_001)
        #expect(r.confirmedAddress == nil)
        #expect(r.candidateCount == 0)
    }

    // MARK: dial-back, the state machine alone

    let a = PeerAddress.ipv4(10, 0, 1, 1, port: 7700)
    let b = PeerAddress.ipv4(10, 0, 2, 1, port: 7700)
    let c = PeerAddress.ipv4(10, 0, 3, 1, port: 7700)
    let d = PeerAddress.ipv4(10, 0, 4, 1, port: 7700)

    @Test func dialBackRolesAlone() {
        var asker = Reachability()
        let relayer = Reachability()
        var prober = Reachability()
        #expect(asker.startCheck(via: [b], nonces: [77], nowMs: 0) == [.send(.request(nonce: 77), to: b)])
        // B skips candidates on the requester's own host.
        let sameHost = PeerAddress.ipv4(10, 0, 1, 1, port: 9)
        #expect(relayer.handleRequest(77, from: a, relayCandidates: [a, sameHost, c, d])
            == [.send(.relay(nonce: 77, target: a), to: c)])
        #expect(relayer.handleRequest(77, from: a, relayCandidates: [a, sameHost]).isEmpty)
        #expect(prober.handleRelay(77, target: a, nowMs: 1) == [.send(.probe(nonce: 77), to: a)])
        #expect(asker.status == .unknown)
        #expect(asker.handleProbe(77, from: c, nowMs: 2) == [.statusChanged(.reachable)])
        #expect(asker.status == .reachable)
        #expect(asker.serverMode)
        #expect(asker.pendingChecks == 0)
    }

    @Test func probeFromAHelperWeAskedDoesNotCount() {
        var r = Reachability()
        _ = r.startCheck(via: [b, c], nonces: [1, 2], nowMs: 0)
        // B itself, from any port, and C (another helper of this check) both have our NAT open.
        #expect(r.handleProbe(1, from: b, nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.handleProbe(1, from: .ipv4(10, 0, 2, 1, port: 1), nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.handleProbe(1, from: c, nowMs: 1) == [.ignored(.unexpected)])
        // Unknown nonces prove nothing either.
        #expect(r.handleProbe(3, from: d, nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.status == .unknown)
        #expect(r.expire(nowMs: 10_000) == [.statusChanged(.unreachable)])
        #expect(!r.serverMode)
        // A helper asked recently still does not count in the next check.
        _ = r.startCheck(via: [d], nonces: [4], nowMs: 20_000)
        #expect(r.handleProbe(4, from: b, nowMs: 20_001) == [.ignored(.unexpected)])
        #expect(r.handleProbe(4, from: .ipv4(10, 0, 5, 1, port: 7700), nowMs: 20_002) == [.statusChanged(.reachable)])
    }

    @Test func checksTimingOutMakeUsUnreachableAndEndServerMode() {
        var r = Reachability()
        #expect(r.serverMode)  // optimistic before any check
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        _ = r.startCheck(via: [c], nonces: [2], nowMs: 5_000)
        #expect(r.expire(nowMs: 9_999).isEmpty)
        #expect(r.expire(nowMs: 10_000).isEmpty)  // one check is still pending
        #expect(r.status == .unknown)
        #expect(r.expire(nowMs: 15_000) == [.statusChanged(.unreachable)])
        #expect(r.status == .unreachable)
        #expect(!r.serverMode)
        // A probe for an expired nonce is too late.
        #expect(r.handleProbe(2, from: d, nowMs: 15_001) == [.ignored(.unexpected)])
    }

    @Test func probesAreRateLimitedSoWeCannotAmplify() {
        var r = Reachability()
        for i in 0..<30 {
            #expect(r.handleRelay(UInt64(i), target: a, nowMs: 1_000 + UInt64(i)) == [.send(.probe(nonce: UInt64(i)), to: a)])
        }
        #expect(r.handleRelay(99, target: b, nowMs: 1_100) == [.ignored(.rateLimited)])
        #expect(r.handleRelay(99, target: b, nowMs: 60_999) == [.ignored(.rateLimited)])
        #expect(r.handleRelay(99, target: b, nowMs: 61_000) == [.send(.probe(nonce: 99), to: b)])
    }

    @Test func pendingChecksAreBounded() {
        var config = Reachability.Config()
        config.maxPendingChecks = 2
        var r = Reachability(config: config)
        let effects = r.startCheck(via: [b, c, d], nonces: [1, 2, 3], nowMs: 0)
        #expect(effects == [.send(.request(nonce: 1), to: b), .send(.request(nonce: 2), to: c)])
        #expect(r.pendingChecks == 2)
    }

    // MARK: dial-back through three peer cores

    func inbound(_ message: Message, from key: SigningKey, at address: PeerAddress) -> Inbound {
        let bytes = Envelope.seal(message, networkID: network, key: key, sequence: 1, timestamp: 1)
        return Inbound(envelope: try! Envelope.parse(bytes), message: message, source: address)
    }

    func sends(_ effects: [PeerCore.Effect]) -> [(Message, PeerAddress)] {
        effects.compactMap { if case let .send(message, to) = $0 { return (message, to) } else { return nil } }
    }

    @Test func dialBackFlowsFromAThroughBAndCBackToA() {
        let (keyA, keyB, keyC) = (Self.key(1), Self.key(2), Self.key(3))
        var coreA = PeerCore(config: .init(networkID: network))
        var coreB = PeerCore(config: .init(networkID: network))
        var coreC = PeerCore(config: .init(networkID: network))
        // B knows C (C pinged it once).
        _ = coreB.handle(inbound(.ping(Ping(nonce: 1)), from: keyC, at: c), nowMs: 0)

        let request = sends(coreA.startReachabilityCheck(via: [b], nonces: [77], nowMs: 10))
        #expect(request.map(\.0) == [.dialBack(.request(nonce: 77))])
        #expect(request.map(\.1) == [b])

        let relay = sends(coreB.handle(inbound(request[0].0, from: keyA, at: a), nowMs: 20))
        #expect(relay.map(\.0) == [.dialBack(.relay(nonce: 77, target: a))])
        #expect(relay.map(\.1) == [c])

        let probe = sends(coreC.handle(inbound(relay[0].0, from: keyB, at: b), nowMs: 30))
        #expect(probe.map(\.0) == [.dialBack(.probe(nonce: 77))])
        #expect(probe.map(\.1) == [a])

        #expect(coreA.handle(inbound(probe[0].0, from: keyC, at: c), nowMs: 40) == [.reachabilityChanged(.reachable)])
        #expect(coreA.reachability.status == .reachable)
        #expect(coreA.serverMode)
        // Nothing left to time out.
        #expect(coreA.expire(nowMs: 20_000).isEmpty)
    }

    @Test func peerCoreReportsUnreachableWhenNoProbeArrives() {
        var coreA = PeerCore(config: .init(networkID: network))
        _ = coreA.startReachabilityCheck(via: [b, c], nonces: [5, 6], nowMs: 0)
        // The helper answering the probe itself does not count.
        #expect(coreA.handle(inbound(.dialBack(.probe(nonce: 5)), from: Self.key(2), at: b), nowMs: 1)
            == [.ignored(.unexpected)])
        #expect(coreA.expire(nowMs: 10_000) == [.reachabilityChanged(.unreachable)])
        #expect(!coreA.serverMode)
    }

    @Test func relayingPeerCoreNeverPicksTheRequesterAndRotatesByNonce() {
        let (keyA, keyC, keyD) = (Self.key(1), Self.key(3), Self.key(4))
        var coreB = PeerCore(config: .init(networkID: network))
        for (key, address) in [(keyA, a), (keyC, c), (keyD, d)] {
            _ = coreB.handle(inbound(.ping(Ping(nonce: 1)), from: key, at: address), nowMs: 0)
        }
        var relays: Set<PeerAddress> = []
        for nonce in UInt64(0)..<8 {
            let out = sends(coreB.handle(inbound(.dialBack(.request(nonce: nonce)), from: keyA, at: a), nowMs: 1))
            #expect(out.count == 1)
            #expect(out.first?.1 != a)
            #expect(out.first?.0 == .dialBack(.relay(nonce: nonce, target: a)))
            if let to = out.first?.1 { relays.insert(to) }
        }
        #expect(relays == [c, d])
    }
}
