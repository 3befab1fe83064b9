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
    let e = PeerAddress.ipv4(10, 0, 6, 1, port: 7700)
    let f = PeerAddress.ipv4(10, 0, 7, 1, port: 7700)

    @Test func dialBackRolesAlone() {
        var asker = Reachability()
        let relayer = Reachability()
        var prober = Reachability()
        #expect(asker.startCheck(via: [b], nonces: [77], nowMs: 0) == [.send(.request(nonce: 77), to: b)])
        // B skips candidates on the requester's own host, asks the first other one, and tells A
        // which node it asked.
        let sameHost = PeerAddress.ipv4(10, 0, 1, 1, port: 9)
        #expect(relayer.handleRequest(77, from: a, relayCandidates: [a, sameHost, c, d])
            == [.send(.relay(nonce: 77, target: a), to: c), .send(.relayed(nonce: 77, via: c), to: a)])
        #expect(relayer.handleRequest(77, from: a, relayCandidates: [a, sameHost]).isEmpty)
        #expect(relayer.handleRequest(77, from: a, relayCandidates: []).isEmpty)
        #expect(prober.handleRelay(77, target: a, nowMs: 1) == [.send(.probe(nonce: 77), to: a)])
        // A learns the relay (fresh: A never sent to it); the check stays pending.
        #expect(asker.handleRelayed(77, via: c, from: b, nowMs: 1).isEmpty)
        #expect(asker.pendingChecks == 1)
        #expect(asker.status == .unknown)
        #expect(asker.handleProbe(77, from: c, nowMs: 2) == [.statusChanged(.reachable)])
        #expect(asker.status == .reachable)
        #expect(asker.serverMode)
        #expect(asker.pendingChecks == 0)
    }

    @Test func probeFromAHelperWeAskedDoesNotCount() {
        var r = Reachability()
        _ = r.startCheck(via: [b, c], nonces: [1, 2], nowMs: 0)
        // Both helpers name fresh relays, so a timeout will be conclusive.
        #expect(r.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        #expect(r.handleRelayed(2, via: f, from: c, nowMs: 1).isEmpty)
        // B itself, from any port, and C (another helper of this check) both have our NAT open.
        #expect(r.handleProbe(1, from: b, nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.handleProbe(1, from: .ipv4(10, 0, 2, 1, port: 1), nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.handleProbe(1, from: c, nowMs: 1) == [.ignored(.unexpected)])
        // Unknown nonces prove nothing either.
        #expect(r.handleProbe(3, from: d, nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.status == .unknown)
        #expect(r.pendingChecks == 2)
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
        #expect(r.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        #expect(r.handleRelayed(2, via: f, from: c, nowMs: 5_001).isEmpty)
        #expect(r.expire(nowMs: 9_999).isEmpty)
        #expect(r.expire(nowMs: 10_000).isEmpty)  // one check is still pending
        #expect(r.status == .unknown)
        #expect(r.pendingChecks == 1)
        #expect(r.expire(nowMs: 15_000) == [.statusChanged(.unreachable)])
        #expect(r.status == .unreachable)
        #expect(!r.serverMode)
        // A probe for an expired nonce is too late.
        #expect(r.handleProbe(2, from: d, nowMs: 15_001) == [.ignored(.unexpected)])
    }

    @Test func checksWithoutANamedRelayAreInconclusive() {
        var r = Reachability(config: .oneFailedRelayIsEnough)
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        #expect(r.expire(nowMs: 10_000).isEmpty)
        #expect(r.pendingChecks == 0)
        #expect(r.status == .unknown)
        #expect(r.serverMode)
        // Once reachable, a later check whose helper never answers does not undo it.
        _ = r.startCheck(via: [b], nonces: [2], nowMs: 20_000)
        #expect(r.handleProbe(2, from: d, nowMs: 20_001) == [.statusChanged(.reachable)])
        _ = r.startCheck(via: [c], nonces: [3], nowMs: 30_000)
        #expect(r.expire(nowMs: 40_000).isEmpty)
        #expect(r.status == .reachable)
        // But a failed check with a fresh relay counts even when the last one to time out had no relay.
        _ = r.startCheck(via: [b, c], nonces: [4, 5], nowMs: 200_000)
        #expect(r.handleRelayed(4, via: e, from: b, nowMs: 200_001).isEmpty)
        #expect(r.expire(nowMs: 210_000) == [.statusChanged(.unreachable)])
    }

    @Test func relayedNamingARecentlyContactedRelayMakesTheCheckInconclusive() {
        var r = Reachability(config: .oneFailedRelayIsEnough)
        // We sent to C (another port on its host) a moment ago: our NAT may let C in.
        r.noteSent(to: .ipv4(10, 0, 3, 1, port: 1), nowMs: 0)
        _ = r.startCheck(via: [b, d], nonces: [1, 2], nowMs: 0)
        r.noteSent(to: b, nowMs: 0)
        r.noteSent(to: d, nowMs: 0)
        #expect(r.handleRelayed(1, via: c, from: b, nowMs: 1).isEmpty)
        #expect(r.pendingChecks == 1)  // check 1 dropped
        #expect(r.handleProbe(1, from: c, nowMs: 2) == [.ignored(.unexpected)])
        // The other check names a fresh relay: its timeout alone makes us unreachable.
        #expect(r.handleRelayed(2, via: e, from: d, nowMs: 1).isEmpty)
        #expect(r.pendingChecks == 1)
        #expect(r.expire(nowMs: 10_000) == [.statusChanged(.unreachable)])
        // A round where every relay was contacted recently leaves the status unknown.
        var s = Reachability()
        s.noteSent(to: c, nowMs: 0)
        _ = s.startCheck(via: [b], nonces: [1], nowMs: 0)
        #expect(s.handleRelayed(1, via: c, from: b, nowMs: 1).isEmpty)
        #expect(s.pendingChecks == 0)
        #expect(s.expire(nowMs: 10_000).isEmpty)
        #expect(s.status == .unknown)
        #expect(s.serverMode)
    }

    @Test func probeFromARecentlyContactedHostIsIgnored() {
        var r = Reachability()
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        #expect(r.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        // We sent to C (a DHT query, say) on another port; a probe from C proves nothing.
        r.noteSent(to: .ipv4(10, 0, 3, 1, port: 4444), nowMs: 1)
        #expect(r.handleProbe(1, from: c, nowMs: 2) == [.ignored(.unexpected)])
        #expect(r.status == .unknown)
        #expect(r.pendingChecks == 1)
        // The relay contacted after it was named no longer proves anything either.
        r.noteSent(to: e, nowMs: 3)
        #expect(r.handleProbe(1, from: e, nowMs: 4) == [.ignored(.unexpected)])
        // A host we never sent to does.
        #expect(r.handleProbe(1, from: f, nowMs: 5) == [.statusChanged(.reachable)])
    }

    @Test func relayedFromSomeoneOtherThanTheHelperAskedIsIgnored() {
        var r = Reachability(config: .oneFailedRelayIsEnough)
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        // D was not asked: its notice names neither a fresh relay (which would make the check
        // conclusive) ...
        #expect(r.handleRelayed(1, via: c, from: d, nowMs: 1) == [.ignored(.unexpected)])
        // ... nor a contacted one (which would drop the check). Nor does B from another port.
        r.noteSent(to: e, nowMs: 1)
        #expect(r.handleRelayed(1, via: e, from: d, nowMs: 2) == [.ignored(.unexpected)])
        #expect(r.handleRelayed(1, via: e, from: .ipv4(10, 0, 2, 1, port: 1), nowMs: 2) == [.ignored(.unexpected)])
        #expect(r.pendingChecks == 1)
        // Unknown nonces are ignored too.
        #expect(r.handleRelayed(9, via: c, from: b, nowMs: 2) == [.ignored(.unexpected)])
        // The check had no relay named by its helper, so its timeout is inconclusive.
        #expect(r.expire(nowMs: 10_000).isEmpty)
        #expect(r.status == .unknown)

        // The helper names a relay once: a second notice cannot swap it for another.
        _ = r.startCheck(via: [b], nonces: [2], nowMs: 20_000)
        #expect(r.handleRelayed(2, via: c, from: b, nowMs: 20_001).isEmpty)
        #expect(r.handleRelayed(2, via: e, from: b, nowMs: 20_002) == [.ignored(.unexpected)])
        #expect(r.pendingChecks == 1)
        #expect(r.expire(nowMs: 30_000) == [.statusChanged(.unreachable)])
    }

    @Test func recentContactsExpireAfterNatMappingMs() {
        var config = Reachability.Config()
        config.natMappingMs = 1_000
        var r = Reachability(config: config)
        r.noteSent(to: c, nowMs: 0)
        #expect(r.mayHaveContacted(c.hostBytes, nowMs: 999))
        #expect(!r.mayHaveContacted(c.hostBytes, nowMs: 1_000))
        #expect(!r.mayHaveContacted(d.hostBytes, nowMs: 0))
        // Within natMappingMs, a relayed notice naming C drops the check ...
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 500)
        #expect(r.handleRelayed(1, via: c, from: b, nowMs: 999).isEmpty)
        #expect(r.pendingChecks == 0)
        // ... and after it, C counts as fresh again.
        _ = r.startCheck(via: [b], nonces: [2], nowMs: 1_000)
        #expect(r.handleRelayed(2, via: c, from: b, nowMs: 1_000).isEmpty)
        #expect(r.pendingChecks == 1)
        #expect(r.handleProbe(2, from: c, nowMs: 1_001) == [.statusChanged(.reachable)])
        // Sending again renews the entry.
        r.noteSent(to: c, nowMs: 5_000)
        #expect(r.mayHaveContacted(c.hostBytes, nowMs: 5_999))

        // expire drops old entries, so a table that was full fills no longer.
        config.maxRecentContacts = 2
        var small = Reachability(config: config)
        small.noteSent(to: c, nowMs: 0)
        small.noteSent(to: d, nowMs: 0)
        #expect(small.mayHaveContacted(f.hostBytes, nowMs: 2_000))  // full: cannot tell
        _ = small.expire(nowMs: 2_000)
        #expect(!small.mayHaveContacted(f.hostBytes, nowMs: 2_000))
        #expect(!small.mayHaveContacted(c.hostBytes, nowMs: 2_000))
    }

    @Test func aFullRecentContactTableMakesProbesProveNothing() {
        var config = Reachability.Config()
        config.maxRecentContacts = 2
        var r = Reachability(config: config)
        r.noteSent(to: e, nowMs: 0)
        r.noteSent(to: f, nowMs: 0)
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        r.noteSent(to: b, nowMs: 0)  // refused: the table is full
        #expect(r.handleProbe(1, from: c, nowMs: 1) == [.ignored(.unexpected)])
        #expect(r.status == .unknown)
        // A relay named while the table is full may have been contacted too: the check is dropped.
        #expect(r.handleRelayed(1, via: c, from: b, nowMs: 2).isEmpty)
        #expect(r.pendingChecks == 0)
        #expect(r.expire(nowMs: 10_000).isEmpty)
        #expect(r.status == .unknown)
        // With one slot to spare, the same probe proves reachability.
        config.maxRecentContacts = 3
        var roomy = Reachability(config: config)
        roomy.noteSent(to: e, nowMs: 0)
        roomy.noteSent(to: f, nowMs: 0)
        _ = roomy.startCheck(via: [b], nonces: [1], nowMs: 0)
        #expect(roomy.handleProbe(1, from: c, nowMs: 1) == [.statusChanged(.reachable)])
        // Once the full table drains, probes prove something again.
        _ = r.expire(nowMs: 200_000)
        _ = r.startCheck(via: [d], nonces: [2], nowMs: 200_000)
        #expect(r.handleProbe(2, from: c, nowMs: 200_001) == [.statusChanged(.reachable)])
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

    /// What the shell does with a core's effects: sends them, noting each destination.
    func shellSends(_ effects: [PeerCore.Effect], core: inout PeerCore, nowMs: UInt64) -> [(Message, PeerAddress)] {
        let out = sends(effects)
        for (_, to) in out { core.noteSent(to: to, nowMs: nowMs) }
        return out
    }

    /// A asks B, B asks C and tells A, C probes A (unless `dropProbe`); returns A's core.
    func runDialBack(dropProbe: Bool) -> PeerCore {
        let (keyA, keyB, keyC) = (Self.key(1), Self.key(2), Self.key(3))
        var configA = PeerCore.Config(networkID: network)
        configA.reachability = .oneFailedRelayIsEnough
        var coreA = PeerCore(config: configA)
        var coreB = PeerCore(config: .init(networkID: network))
        var coreC = PeerCore(config: .init(networkID: network))
        // B knows C (C pinged it once).
        _ = shellSends(coreB.handle(inbound(.ping(Ping(nonce: 1)), from: keyC, at: c), nowMs: 0), core: &coreB, nowMs: 0)

        let request = shellSends(coreA.startReachabilityCheck(via: [b], nonces: [77], nowMs: 10), core: &coreA, nowMs: 10)
        #expect(request.map(\.0) == [.dialBack(.request(nonce: 77))])
        #expect(request.map(\.1) == [b])

        let fromB = shellSends(coreB.handle(inbound(request[0].0, from: keyA, at: a), nowMs: 20), core: &coreB, nowMs: 20)
        #expect(fromB.map(\.0) == [.dialBack(.relay(nonce: 77, target: a)), .dialBack(.relayed(nonce: 77, via: c))])
        #expect(fromB.map(\.1) == [c, a])
        guard fromB.count == 2 else { return coreA }

        #expect(coreA.handle(inbound(fromB[1].0, from: keyB, at: b), nowMs: 25).isEmpty)
        #expect(coreA.reachability.pendingChecks == 1)  // C is fresh: the check stands

        let probe = shellSends(coreC.handle(inbound(fromB[0].0, from: keyB, at: b), nowMs: 30), core: &coreC, nowMs: 30)
        #expect(probe.map(\.0) == [.dialBack(.probe(nonce: 77))])
        #expect(probe.map(\.1) == [a])
        if !dropProbe, let first = probe.first {
            #expect(coreA.handle(inbound(first.0, from: keyC, at: c), nowMs: 40) == [.reachabilityChanged(.reachable)])
        }
        return coreA
    }

    @Test func oneLyingHelperNamingTwoSilentRelaysIsNotEnough() {
        var r = Reachability()
        _ = r.startCheck(via: [b], nonces: [1], nowMs: 0)
        _ = r.startCheck(via: [.ipv4(10, 0, 2, 1, port: 9)], nonces: [2], nowMs: 0)  // B again, another port
        #expect(r.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        #expect(r.handleRelayed(2, via: f, from: .ipv4(10, 0, 2, 1, port: 9), nowMs: 1).isEmpty)
        #expect(r.expire(nowMs: 10_000).isEmpty)
        #expect(r.serverMode)
        // A second helper whose relay stays silent too decides it.
        _ = r.startCheck(via: [c], nonces: [3], nowMs: 200_000)
        #expect(r.handleRelayed(3, via: d, from: c, nowMs: 200_001).isEmpty)
        #expect(r.expire(nowMs: 210_000) == [.statusChanged(.unreachable)])
    }

    @Test func oneFailedRelayIsNotEnoughByDefault() {
        // A relay may have dropped its probe under its own rate limit: one silent relay, even
        // asked twice, proves nothing; a second, different one that stays silent too does.
        var r = Reachability()
        _ = r.startCheck(via: [b, c], nonces: [1, 2], nowMs: 0)
        #expect(r.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        #expect(r.handleRelayed(2, via: .ipv4(10, 0, 6, 1, port: 9), from: c, nowMs: 1).isEmpty)  // e's host
        #expect(r.expire(nowMs: 10_000).isEmpty)
        #expect(r.status == .unknown && r.serverMode)
        _ = r.startCheck(via: [d], nonces: [3], nowMs: 200_000)
        #expect(r.handleRelayed(3, via: f, from: d, nowMs: 200_001).isEmpty)
        #expect(r.expire(nowMs: 210_000) == [.statusChanged(.unreachable)])
        // A success in between starts the count over.
        var s = Reachability()
        _ = s.startCheck(via: [b], nonces: [1], nowMs: 0)
        #expect(s.handleRelayed(1, via: e, from: b, nowMs: 1).isEmpty)
        #expect(s.expire(nowMs: 10_000).isEmpty)
        _ = s.startCheck(via: [c], nonces: [2], nowMs: 200_000)
        #expect(s.handleProbe(2, from: f, nowMs: 200_001) == [.statusChanged(.reachable)])
        _ = s.startCheck(via: [d], nonces: [3], nowMs: 400_000)
        #expect(s.handleRelayed(3, via: .ipv4(10, 0, 5, 1, port: 9), from: d, nowMs: 400_001).isEmpty)
        #expect(s.expire(nowMs: 410_000).isEmpty)
        #expect(s.status == .reachable)
    }

    @Test func dialBackFlowsFromAThroughBAndCBackToA() {
        var coreA = runDialBack(dropProbe: false)
        #expect(coreA.reachability.status == .reachable)
        #expect(coreA.serverMode)
        // Nothing left to time out.
        #expect(coreA.expire(nowMs: 20_000).isEmpty)
        #expect(coreA.reachability.status == .reachable)
    }

    @Test func dialBackFlowWhoseProbeIsLostEndsUnreachable() {
        var coreA = runDialBack(dropProbe: true)
        #expect(coreA.reachability.status == .unknown)
        #expect(coreA.expire(nowMs: 10_009).isEmpty)
        #expect(coreA.expire(nowMs: 10_010) == [.reachabilityChanged(.unreachable)])
        #expect(coreA.reachability.status == .unreachable)
        #expect(!coreA.serverMode)
    }

    @Test func peerCoreDropsACheckWhoseRelayItContactedRecently() {
        let (keyA, keyB, keyC) = (Self.key(1), Self.key(2), Self.key(3))
        var coreA = PeerCore(config: .init(networkID: network))
        var coreB = PeerCore(config: .init(networkID: network))
        _ = coreB.handle(inbound(.ping(Ping(nonce: 1)), from: keyC, at: c), nowMs: 0)
        // A pinged C a moment ago, so C's probe could come back through A's NAT.
        _ = shellSends(coreA.startPing(to: c, nonce: 5, nowMs: 0), core: &coreA, nowMs: 0)
        let request = shellSends(coreA.startReachabilityCheck(via: [b], nonces: [77], nowMs: 10), core: &coreA, nowMs: 10)
        let fromB = sends(coreB.handle(inbound(request[0].0, from: keyA, at: a), nowMs: 20))
        #expect(fromB.map(\.1) == [c, a])
        #expect(coreA.handle(inbound(.dialBack(.relayed(nonce: 77, via: c)), from: keyB, at: b), nowMs: 25).isEmpty)
        #expect(coreA.reachability.pendingChecks == 0)
        #expect(coreA.handle(inbound(.dialBack(.probe(nonce: 77)), from: keyC, at: c), nowMs: 30) == [.ignored(.unexpected)])
        #expect(!coreA.expire(nowMs: 20_000).contains(.reachabilityChanged(.unreachable)))
        #expect(coreA.reachability.status == .unknown)
        // A notice from someone other than the helper is counted as ignored.
        _ = coreA.startReachabilityCheck(via: [b], nonces: [78], nowMs: 30_000)
        #expect(coreA.handle(inbound(.dialBack(.relayed(nonce: 78, via: d)), from: keyC, at: c), nowMs: 30_001)
            == [.ignored(.unexpected)])
    }

    @Test func peerCoreReportsUnreachableWhenNoProbeArrives() {
        var coreA = PeerCore(config: .init(networkID: network))
        _ = coreA.startReachabilityCheck(via: [b, c], nonces: [5, 6], nowMs: 0)
        #expect(coreA.handle(inbound(.dialBack(.relayed(nonce: 5, via: e)), from: Self.key(2), at: b), nowMs: 1).isEmpty)
        #expect(coreA.handle(inbound(.dialBack(.relayed(nonce: 6, via: f)), from: Self.key(3), at: c), nowMs: 1).isEmpty)
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
            #expect(out.count == 2)
            guard out.count == 2 else { continue }
            let relay = out[0].1
            #expect(relay != a)
            #expect(out[0].0 == .dialBack(.relay(nonce: nonce, target: a)))
            // The requester is told which relay was asked.
            #expect(out[1].0 == .dialBack(.relayed(nonce: nonce, via: relay)))
            #expect(out[1].1 == a)
            relays.insert(relay)
        }
        #expect(relays == [c, d])
    }
}

extension Reachability.Config {
    /// The older rule, for tests of the other mechanisms: one failed fresh relay decides.
    static var oneFailedRelayIsEnough: Reachability.Config {
        var config = Reachability.Config()
        config.minFailedRelays = 1
        return config
    }
}
