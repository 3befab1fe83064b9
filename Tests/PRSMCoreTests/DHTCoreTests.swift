import NIOCore
import Testing
@testable import PRSMCore

/// A key and address the test speaks for, to drive one `DHTCore` message by message.
struct ScriptedPeer {
    let key: SigningKey
    let address: PeerAddress
    var publicKey: PublicKey { key.publicKey }
    var id: NodeID { key.publicKey.nodeID }
    var wire: WireContact { WireContact(publicKey: publicKey, address: address) }

    init(_ n: Int, salt: UInt8 = 0x55) {
        key = dhtTestKey(n, salt: salt)
        address = .ipv4(172, 16, UInt8(n & 0xFF), 1, port: 7000)
    }
}

/// The messages among `effects`, with where they go.
func sends(_ effects: [DHTCore.Effect]) -> [(message: Message, to: PeerAddress)] {
    effects.compactMap { if case let .send(message, to) = $0 { return (message, to) } else { return nil } }
}

func finishedResults(_ effects: [DHTCore.Effect]) -> [DHTResult] {
    effects.compactMap { if case let .finished(result) = $0 { return result } else { return nil } }
}

extension DHTCore {
    /// Delivers `message` as `peer` sent it (sealed with its key, from its address).
    mutating func receive(_ message: Message, from peer: ScriptedPeer, nowMs: UInt64) -> [Effect] {
        handle(sealedInbound(message, from: peer.key, at: peer.address).inbound, nowMs: nowMs)
    }

    /// Joins through `bootstrap` (all of `peers` by default); `peers` answer the Pings and any
    /// FIND_NODE (with `contacts` and `token`).
    mutating func joinScripted(_ peers: [ScriptedPeer], through bootstrap: [ScriptedPeer]? = nil,
                               contacts: [WireContact] = [], token: [UInt8] = [], nowMs: UInt64) -> [Effect] {
        var all: [Effect] = []
        var pending = join(bootstrap: (bootstrap ?? peers).map(\.address), saved: [], nowMs: nowMs)
        while !pending.isEmpty {
            all += pending
            var next: [Effect] = []
            for (message, to) in sends(pending) {
                guard let peer = peers.first(where: { $0.address == to }) else { continue }
                switch message {
                case let .ping(ping):
                    next += receive(.pong(Pong(nonce: ping.nonce, observedAddress: to)), from: peer, nowMs: nowMs)
                case let .dht(.findNode(request)):
                    let reply = NodesReply(requestID: request.header.requestID, token: token, contacts: contacts)
                    next += receive(.dht(.nodes(reply)), from: peer, nowMs: nowMs)
                default: break
                }
            }
            pending = next
        }
        return all
    }
}

// MARK: - A network of cores

/// Several `DHTCore`s talking through `DHTTestNetwork`: joining, put/get, find-node, modes.
struct DHTCoreNetworkTests {
    /// Node 0 starts alone (its first join attempt fails), the others join through it one after
    /// the other, then the network settles.
    static func formNetwork(_ count: Int, config: DHTCore.Config,
                            configure: (Int, inout DHTCore) -> Void = { _, _ in }) -> DHTTestNetwork {
        var network = DHTTestNetwork(count: count, config: config, configure: configure)
        network.join(0, through: [])
        for n in 1..<count {
            network.join(n, through: [0])
            network.advance(by: 100)
        }
        network.advance(by: 3_000)
        return network
    }

    /// Tokens held from answers are dropped once too old to present, instead of staying until
    /// the table is full.
    @Test func heldTokensAreDroppedOnceTooOldToPresent() {
        let config = DHTCore.Config.small()
        var network = Self.formNetwork(6, config: config)
        let newest = network.nodes[1].core.heldTokens.values.map(\.receivedMs).max() ?? 0
        #expect(network.nodes[1].core.heldTokenCount > 0)
        // Nothing is delivered any more: no answer brings a fresh token.
        _ = network.nodes[1].core.tick(nowMs: newest + config.heldTokenLifetimeMs - 1)
        #expect(network.nodes[1].core.heldTokenCount > 0, "a token still young enough to present was dropped")
        _ = network.nodes[1].core.tick(nowMs: newest + config.heldTokenLifetimeMs + 60_000)
        #expect(network.nodes[1].core.heldTokenCount == 0)
    }

    /// Every Ping to a newcomer is lost while it joins (a busy network), so the nodes nearest it
    /// never add it, and lookups for it end there without it. Its confirming lookup of its own
    /// id, `confirmJoinAfterMs` later, makes them Ping it again; without one they never do.
    @Test(arguments: [UInt64(10_000), 0])
    func aSecondLookupOfItsOwnIdBringsANewcomerIntoItsNeighboursTables(confirmAfterMs: UInt64) {
        var config = DHTCore.Config.small(k: 4)
        config.confirmJoinAfterMs = confirmAfterMs
        var network = Self.formNetwork(30, config: config)
        network.advance(by: 12_000)
        let newcomer = network.addNode(config: config)
        network.lostPingsTo = [newcomer]
        network.join(newcomer, through: [0])
        network.advance(by: 5_000)
        #expect(network.nodes[newcomer].core.joinState == .joined)
        let id = network.nodes[newcomer].core.ownID
        let nearest = network.trueClosest(to: id, count: 4) { $0 != newcomer }.compactMap { network.index(of: $0) }
        func holding() -> [Int] { nearest.filter { network.nodes[$0].core.table.contains(id) } }
        #expect(nearest.count == 4 && holding().isEmpty, "with every Ping lost \(holding()) added the newcomer")

        network.lostPingsTo = []
        network.advance(by: 10_000)
        if confirmAfterMs > 0 {
            #expect(holding() == nearest, "after the confirming lookup only \(holding()) of \(nearest) hold the newcomer")
        } else {
            #expect(holding().isEmpty)
        }
        #expect(network.unearnedAdds.isEmpty, "\(network.unearnedAdds.prefix(3))")
    }

    @Test(arguments: [(40, 4), (30, 8)])
    func everyNodeJoinsThroughOneBootstrap(count: Int, k: Int) {
        var network = DHTTestNetwork(count: count, config: .small(k: k))
        network.join(0, through: [])
        guard case .joinFailed(attempt: 1, _, _)? = network.nodes[0].effects.last else {
            Issue.record("a lone first node should fail its first attempt: \(network.nodes[0].effects)")
            return
        }
        #expect(network.nodes[0].core.joinState.label == "retrying")

        // The first joiner, step by step: Ping, Pong, lookup of its own id, joined.
        network.join(1, through: [0])
        #expect(network.nodes[1].core.joinState == .contactingSeeds(attempt: 1))
        #expect(sends(network.nodes[1].effects).map(\.to) == [network.nodes[0].address])
        guard case .ping = sends(network.nodes[1].effects).first?.message else {
            Issue.record("a join starts with a Ping of the bootstrap")
            return
        }
        network.deliver()
        let firstSends = sends(network.nodes[1].effects)
        guard firstSends.count >= 2, case let .dht(.findNode(request)) = firstSends[1].message else {
            Issue.record("after the Pong the joiner looks itself up: \(firstSends)")
            return
        }
        #expect(request.target == network.nodes[1].core.ownID)
        #expect(request.header.token.isEmpty && request.padding == DHTCore.Config.small().unprovenPadding)
        #expect(request.header.serverMode)
        #expect(network.joinedEffects(1) == [1])
        #expect(network.nodes[1].core.joinState == .joined)
        #expect(network.nodes[1].core.table.contains(network.nodes[0].core.ownID))
        // The bootstrap pinged the joiner back (server mode) and added it once it answered.
        #expect(network.nodes[0].core.table.contains(network.nodes[1].core.ownID))

        for n in 2..<count {
            network.join(n, through: [0])
            network.advance(by: 100)
        }
        network.advance(by: 3_000)

        #expect(network.unearnedAdds.isEmpty, "\(network.unearnedAdds.prefix(3))")
        for n in 0..<count {
            let core = network.nodes[n].core
            #expect(core.joinState == .joined, "node \(n): \(core.joinState)")
            #expect(network.joinedEffects(n).count == 1, "node \(n) joined \(network.joinedEffects(n).count) times")
            #expect(core.table.count >= min(k, count - 1), "node \(n) holds \(core.table.count) contacts")
            #expect(!core.table.contains(core.ownID))
            #expect(core.lookupCount == 0 && core.outstandingCount == 0,
                    "node \(n): \(core.lookupCount) lookups, \(core.outstandingCount) requests left over")
            for contact in core.table.allContacts {
                guard let other = network.index(of: contact.id) else {
                    Issue.record("node \(n) holds an unknown id")
                    continue
                }
                #expect(contact.address == network.nodes[other].address)
                #expect(contact.publicKey == network.nodes[other].key.publicKey)
                // Nobody enters a table without having answered that node.
                #expect(network.replied.contains([n, other]), "node \(n) holds node \(other), which never answered it")
            }
        }
        // Every later request to the bootstrap carried the token it handed out, without padding.
        let laterRequests = sends(network.nodes[1].effects).dropFirst(2).compactMap { sent -> FindNode? in
            guard sent.to == network.nodes[0].address, case let .dht(.findNode(request)) = sent.message else { return nil }
            return request
        }
        #expect(laterRequests.allSatisfy { $0.header.token.count == DHTLimits.tokenSize && $0.padding == 0 })

        // Lookups over the joined network find the true k closest.
        var rng = RoutingTestRandom(seed: UInt64(count))
        for operation in 1...6 {
            let from = Int(rng.next() % UInt64(count))
            let target = operation.isMultiple(of: 2) ? rng.nodeID() : network.nodes[Int(rng.next() % UInt64(count))].core.ownID
            network.call(from) { $0.findNode(target, operation: UInt64(operation), nowMs: $1) }
            network.deliver()
            guard let result = network.result(from, operation: UInt64(operation)) else {
                Issue.record("find-node \(operation) did not finish")
                continue
            }
            #expect(result.succeeded && result.kind == .findNode)
            #expect(result.closest.map(\.id) == network.trueClosest(to: target, count: k) { $0 != from })
            #expect(result.requests <= count)
        }
        #expect(network.largestDatagram <= Envelope.maxDatagramSize)
    }

    @Test func aNodeComesBackThroughItsSavedContactsWhenTheBootstrapIsGone() {
        let config = DHTCore.Config.small(k: 4)
        var network = Self.formNetwork(20, config: config)
        network.nodes[0].up = false
        // The newcomer knows the bootstrap (down) and the table of node 7 (an address book).
        let saved = network.nodes[7].core.table.allContacts.map { WireContact(publicKey: $0.publicKey, address: $0.address) }
        #expect(!saved.isEmpty)
        let late = network.addNode(config: config)
        network.join(late, through: [0], saved: saved)
        network.advance(by: 3_000)

        #expect(network.nodes[late].core.joinState == .joined)
        #expect(network.nodes[late].core.table.count >= 4)
        #expect(!network.nodes[late].core.table.contains(network.nodes[0].core.ownID))
        let lateID = network.nodes[late].core.ownID
        #expect(network.nodes.indices.contains { $0 != late && network.nodes[$0].core.table.contains(lateID) })

        // Others find it, and it can publish for others to read.
        network.call(3) { $0.findNode(lateID, operation: 1, nowMs: $1) }
        let value = Array("a late node's record".utf8)
        network.call(late) { $0.put(value, operation: 2, nowMs: $1) }
        network.advance(by: 5_000)
        #expect(network.result(3, operation: 1)?.closest.first?.id == lateID)
        #expect(network.result(late, operation: 2)?.succeeded == true)
        network.call(11) { $0.get(Blake2b.hash256(value), operation: 3, nowMs: $1) }
        network.advance(by: 5_000)
        #expect(network.result(11, operation: 3)?.value == value)
    }

    @Test func putThenGetFromAnotherNode() {
        let k = 4
        var network = Self.formNetwork(30, config: .small(k: k))
        let value = (0..<DHTLimits.maxValueSize).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let key = Blake2b.hash256(value)
        network.call(3) { $0.put(value, operation: 1, nowMs: $1) }
        network.deliver()
        guard let put = network.result(3, operation: 1) else {
            Issue.record("the put did not finish")
            return
        }
        #expect(put.succeeded && put.kind == .put && put.target == key)
        #expect(put.storedAt > 0 && put.storedAt <= k)
        #expect(put.closest.map(\.id) == network.trueClosest(to: NodeID(digest: key), count: k) { $0 != 3 })
        #expect(put.requests >= put.storedAt)
        let holders = network.holders(of: key)
        #expect(holders.contains(3))
        #expect(holders.count >= put.storedAt + 1)
        for contact in put.closest.prefix(put.storedAt) where put.storedAt == k {
            #expect(holders.contains(network.index(of: contact.id)!))
        }

        let getter = (0..<30).first { !holders.contains($0) }!
        network.call(getter) { $0.get(key, operation: 2, nowMs: $1) }
        network.deliver()
        guard let get = network.result(getter, operation: 2) else {
            Issue.record("the get did not finish")
            return
        }
        #expect(get.succeeded && get.kind == .get)
        #expect(get.value == value)
        #expect(get.requests >= 1 && get.requests <= 30)

        // A node holding the record answers from its store without asking anyone.
        network.call(3) { $0.get(key, operation: 3, nowMs: $1) }
        #expect(network.result(3, operation: 3)?.value == value)
        #expect(network.result(3, operation: 3)?.requests == 0)

        // Too large for one datagram: refused at once.
        network.call(4) { $0.put(value + [1], operation: 4, nowMs: $1) }
        #expect(network.result(4, operation: 4)?.failure == .tooLarge)
        #expect(network.largestDatagram <= Envelope.maxDatagramSize)
    }

    @Test func getOfAnUnknownKeyEndsNotFoundWithBoundedRequests() {
        let count = 30
        let k = 4
        var network = Self.formNetwork(count, config: .small(k: k))
        let key = Blake2b.hash256(Array("nobody stored this".utf8))
        network.call(5) { $0.get(key, operation: 9, nowMs: $1) }
        network.deliver()
        guard let result = network.result(5, operation: 9) else {
            Issue.record("the get did not finish")
            return
        }
        #expect(result.failure == .notFound)
        #expect(result.value == nil)
        #expect(result.closest.map(\.id) == network.trueClosest(to: NodeID(digest: key), count: k) { $0 != 5 })
        // Everyone up answers, so nobody is asked twice; far fewer than all are asked.
        #expect(result.requests >= k && result.requests < count - 1)
        #expect(network.nodes[5].core.lookupCount == 0)
    }

    @Test func forgedValuesAreRefusedAndTheLookupGoesOn() {
        let count = 30
        var network = Self.formNetwork(count, config: .small(k: 4))
        network.liars = Set((0..<count).filter { $0 % 2 == 1 && $0 != 7 })
        let key = Blake2b.hash256(Array("nobody stored this either".utf8))
        network.call(8) { $0.get(key, operation: 1, nowMs: $1) }
        network.deliver()
        let misbehaved = network.nodes[8].effects.compactMap { effect -> PublicKey? in
            if case let .misbehaved(key, _) = effect { return key }
            return nil
        }
        #expect(!misbehaved.isEmpty)
        for key in misbehaved { #expect(network.liars.contains(network.index(of: key.nodeID)!)) }
        guard let result = network.result(8, operation: 1) else {
            Issue.record("the get did not finish")
            return
        }
        #expect(result.failure == .notFound)
        #expect(result.value == nil)
        #expect(result.requests > misbehaved.count)
        // No liar counts among the nodes that answered.
        #expect(result.closest.allSatisfy { !network.liars.contains(network.index(of: $0.id)!) })
    }

    @Test func aClientModeNodeNeverEntersATableAServerModeOneDoes() {
        let config = DHTCore.Config.small(k: 4)
        var network = Self.formNetwork(12, config: config)
        let client = network.addNode(config: config) { _, core in core.serverMode = false }
        let server = network.addNode(config: config)
        network.join(client, through: [0])
        network.join(server, through: [0])
        network.advance(by: 2_000)
        let value = Array("from a client".utf8)
        network.call(client) { $0.put(value, operation: 1, nowMs: $1) }
        let bootstrapID = network.nodes[0].core.ownID
        network.call(client) { $0.findNode(bootstrapID, operation: 2, nowMs: $1) }
        network.advance(by: 2_000)

        #expect(network.nodes[client].core.joinState == .joined)
        #expect(network.result(client, operation: 1)?.succeeded == true)
        let clientID = network.nodes[client].core.ownID
        let serverID = network.nodes[server].core.ownID
        for n in network.nodes.indices where n != client {
            #expect(!network.nodes[n].core.table.contains(clientID), "node \(n) added a client-mode node")
            #expect(!network.nodes[n].core.table.isReplacement(clientID))
        }
        #expect(network.nodes.indices.contains { network.nodes[$0].core.table.contains(serverID) })
        #expect(!sends(network.nodes[client].effects).contains { sent in
            if case let .dht(.findNode(request)) = sent.message { return request.header.serverMode }
            return false
        })
    }

    @Test func outstandingRequestsStayBoundedAndOperationsStillFinish() {
        var config = DHTCore.Config.small(k: 4)
        config.maxOutstanding = 10
        var network = Self.formNetwork(25, config: config)
        #expect(network.maxOutstandingSeen <= 10)
        var operations: [(node: Int, operation: UInt64)] = []
        for n in 0..<10 {
            let value = Array("record \(n)".utf8)
            network.call(n) { $0.put(value, operation: 100 + UInt64(n), nowMs: $1) }
            network.call(n) { $0.get(Blake2b.hash256(Array("record \((n + 3) % 10)".utf8)), operation: 200 + UInt64(n),
                                     nowMs: $1) }
            let target = network.nodes[(n + 5) % 25].core.ownID
            network.call(n) { $0.findNode(target, operation: 300 + UInt64(n), nowMs: $1) }
            operations += [(n, 100 + UInt64(n)), (n, 200 + UInt64(n)), (n, 300 + UInt64(n))]
        }
        network.advance(by: 10_000)
        #expect(network.maxOutstandingSeen <= 10)
        for (node, operation) in operations {
            #expect(network.result(node, operation: operation) != nil, "operation \(operation) of node \(node) never finished")
        }
        for n in 0..<10 {
            #expect(network.result(n, operation: 100 + UInt64(n))?.succeeded == true)
            #expect(network.nodes[n].core.lookupCount == 0, "node \(n) still runs \(network.nodes[n].core.lookupCount) lookups")
        }
    }
}

// MARK: - Joining and retries

struct DHTCoreJoinTests {
    @Test func anUnreachableBootstrapFailsAndRetriesWithGrowingCappedDelays() {
        var config = DHTCore.Config()
        config.requestTimeoutMs = 2_000
        config.joinRetryBaseMs = 1_000
        config.joinRetryMaxMs = 8_000
        let key = dhtTestKey(1, salt: 9)
        var core = DHTCore(identity: key.publicKey, config: config, seed: 42, nowMs: 0)
        let dead = PeerAddress.ipv4(192, 0, 2, 1, port: 9)

        var effects = core.join(bootstrap: [dead], saved: [], nowMs: 0)
        #expect(sends(effects).count == 1 && sends(effects).first?.to == dead)
        #expect(core.joinState == .contactingSeeds(attempt: 1))
        var pingAt: UInt64 = 0
        var nowMs: UInt64 = 0
        var delays: [UInt64] = []
        for attempt in 1...7 {
            guard let deadline = core.nextDeadlineMs else {
                Issue.record("nothing to wake for while joining")
                return
            }
            #expect(deadline == pingAt + config.requestTimeoutMs)
            #expect(core.tick(nowMs: deadline - 1).isEmpty)
            nowMs = deadline
            effects = core.tick(nowMs: nowMs)
            guard case let .joinFailed(failedAttempt, retryInMs, reason)? = effects.first, effects.count == 1 else {
                Issue.record("attempt \(attempt) should fail once its Ping times out: \(effects)")
                return
            }
            #expect(failedAttempt == attempt)
            #expect(!reason.isEmpty && core.lastJoinError == reason)
            let base = min(config.joinRetryMaxMs, config.joinRetryBaseMs << UInt64(attempt - 1))
            #expect(retryInMs >= base && retryInMs <= base + base / 4, "attempt \(attempt): \(retryInMs) ms")
            #expect(core.joinState == .waitingToRetry(attempt: attempt, retryAtMs: nowMs + retryInMs))
            delays.append(retryInMs)

            #expect(core.nextDeadlineMs == nowMs + retryInMs)
            #expect(core.tick(nowMs: nowMs + retryInMs - 1).isEmpty)
            nowMs += retryInMs
            effects = core.tick(nowMs: nowMs)
            #expect(sends(effects).map(\.to) == [dead])
            #expect(core.joinState == .contactingSeeds(attempt: attempt + 1))
            pingAt = nowMs
        }
        #expect(delays[1] > delays[0] && delays[2] > delays[1] && delays[3] > delays[2])
        #expect(delays.allSatisfy { $0 <= config.joinRetryMaxMs + config.joinRetryMaxMs / 4 })
        #expect(delays.suffix(3).allSatisfy { $0 >= config.joinRetryMaxMs })
        // Only the current Ping is awaited: failed ones do not pile up.
        #expect(core.outstandingCount == 1)
    }

    @Test func withNothingToAskTheJoinFailsAtOnce() {
        var core = DHTCore(identity: dhtTestKey(2, salt: 9).publicKey, seed: 1, nowMs: 50)
        let effects = core.join(bootstrap: [], saved: [], nowMs: 50)
        guard case let .joinFailed(attempt, retryInMs, _)? = effects.first, effects.count == 1 else {
            Issue.record("expected one joinFailed: \(effects)")
            return
        }
        #expect(attempt == 1)
        #expect(retryInMs >= 1_000 && retryInMs <= 1_250)
        #expect(core.joinState == .waitingToRetry(attempt: 1, retryAtMs: 50 + retryInMs))
        // A get before joining fails without asking anyone.
        #expect(finishedResults(core.get(Blake2b.hash256([1]), operation: 3, nowMs: 60)).map(\.failure) == [.noContacts])
    }

    @Test func aBootstrapThatComesBackEndsTheRetries() {
        var network = DHTTestNetwork(count: 2, config: .small(k: 4))
        network.nodes[0].up = false
        network.join(1, through: [0])
        network.advance(by: 6_000)
        let failures = network.nodes[1].effects.compactMap { effect -> UInt64? in
            if case let .joinFailed(_, retryInMs, _) = effect { return retryInMs }
            return nil
        }
        #expect(failures.count >= 2)
        network.nodes[0].up = true
        network.advance(by: 10_000)
        #expect(network.nodes[1].core.joinState == .joined)
        #expect(network.nodes[1].core.table.contains(network.nodes[0].core.ownID))
        #expect(network.nodes[1].core.lastJoinError == nil)
    }
}

// MARK: - One core, scripted peers

struct DHTCoreResponderTests {
    let peers = (1...25).map { ScriptedPeer($0) }
    let requester = ScriptedPeer(100)
    let other = ScriptedPeer(101)

    /// A core whose table holds the 25 scripted peers (k = 20).
    func responder() -> DHTCore {
        var config = DHTCore.Config()
        config.routing.k = 20
        var core = DHTCore(identity: dhtTestKey(7, salt: 3).publicKey, config: config, seed: 9, nowMs: 0)
        _ = core.joinScripted(peers, nowMs: 0)
        #expect(core.table.count == 25)
        return core
    }

    func nodesReply(_ effects: [DHTCore.Effect]) -> NodesReply? {
        for (message, _) in sends(effects) { if case let .dht(.nodes(reply)) = message { return reply } }
        return nil
    }

    @Test func aStoreWithoutAValidTokenIsRefusedAndStoresNothing() {
        var core = DHTCore(identity: dhtTestKey(8, salt: 3).publicKey, seed: 10, nowMs: 0)
        let value = Array("token-guarded".utf8)
        func store(_ token: [UInt8], from peer: ScriptedPeer, id: UInt64) -> [DHTCore.Effect] {
            let header = DHTRequestHeader(requestID: id, serverMode: false, token: token)
            return core.receive(.dht(.store(StoreRequest(header: header, value: value))), from: peer, nowMs: 1_000)
        }
        func reply(_ effects: [DHTCore.Effect]) -> (StoreReply, PeerAddress)? {
            for (message, to) in sends(effects) { if case let .dht(.stored(reply)) = message { return (reply, to) } }
            return nil
        }

        guard let (refused, to) = reply(store([], from: requester, id: 1)) else {
            Issue.record("a STORE is always answered")
            return
        }
        #expect(refused.status == .badToken && refused.requestID == 1 && to == requester.address)
        #expect(core.records.count == 0)
        #expect(reply(store([UInt8](repeating: 0xAB, count: 16), from: requester, id: 2))?.0.status == .badToken)

        // A token handed to another address is no good from ours.
        let ask = FindNode(header: DHTRequestHeader(requestID: 3, serverMode: false), target: requester.id, padding: 400)
        let otherToken = nodesReply(core.receive(.dht(.findNode(ask)), from: other, nowMs: 1_000))!.token
        #expect(otherToken.count == DHTLimits.tokenSize)
        #expect(reply(store(otherToken, from: requester, id: 4))?.0.status == .badToken)
        #expect(core.records.count == 0)

        // The token from the refusal, minted for our address, is accepted.
        #expect(refused.token.count == DHTLimits.tokenSize)
        #expect(reply(store(refused.token, from: requester, id: 5))?.0.status == .stored)
        #expect(core.records.value(for: Blake2b.hash256(value), nowMs: 1_000) == value)
        #expect(core.records.record(for: Blake2b.hash256(value))?.publisher == requester.publicKey)
    }

    @Test func repliesToUnprovenRequestersStayWithinThreeTimesTheRequest() {
        var core = responder()
        let target = requester.id
        func ask(padding: Int, token: [UInt8] = [], id: UInt64) -> (reply: NodesReply, requestSize: Int, replySize: Int) {
            let message = Message.dht(.findNode(FindNode(header: DHTRequestHeader(requestID: id, serverMode: false, token: token),
                                                         target: target, padding: padding)))
            let (inbound, requestSize) = sealedInbound(message, from: requester.key, at: requester.address)
            let effects = core.handle(inbound, nowMs: 5_000)
            #expect(sends(effects).count == 1, "a client-mode requester gets the reply and nothing else")
            let reply = nodesReply(effects)!
            return (reply, requestSize, sealedSize(.dht(.nodes(reply)), from: dhtTestKey(7, salt: 3)))
        }
        let closest = core.table.closest(to: target, count: 20).map(\.publicKey)

        let bare = ask(padding: 0, id: 1)
        #expect(bare.replySize <= 3 * bare.requestSize, "\(bare.replySize) > 3 × \(bare.requestSize)")
        #expect(bare.reply.contacts.count > 0 && bare.reply.contacts.count < 20)
        #expect(bare.reply.contacts.map(\.publicKey) == Array(closest.prefix(bare.reply.contacts.count)))

        let padded = ask(padding: 400, id: 2)
        #expect(padded.reply.contacts.map(\.publicKey) == closest)
        #expect(padded.replySize <= 3 * padded.requestSize && padded.replySize <= Envelope.maxDatagramSize)

        let proven = ask(padding: 0, token: bare.reply.token, id: 3)
        #expect(proven.reply.contacts.map(\.publicKey) == closest)
        #expect(proven.replySize <= Envelope.maxDatagramSize)

        let misaddressed = ask(padding: 0, token: nodesReply(core.receive(.dht(.findNode(FindNode(
            header: DHTRequestHeader(requestID: 4, serverMode: false), target: target, padding: 400))), from: other,
            nowMs: 5_000))!.token, id: 5)
        // (Its token makes the request 20 bytes longer, so the budget grows a little.)
        #expect(misaddressed.reply.contacts.count < 20)
        #expect(misaddressed.replySize <= 3 * misaddressed.requestSize)
    }

    @Test func aValueTooLargeForTheBudgetIsNotSentToAnUnprovenRequester() {
        var core = responder()
        let value = [UInt8](repeating: 0x5A, count: DHTLimits.maxValueSize)
        let key = Blake2b.hash256(value)
        _ = core.put(value, operation: 1, nowMs: 0)
        func ask(padding: Int, id: UInt64) -> (Message, Int, Int)? {
            let message = Message.dht(.findValue(FindValue(header: DHTRequestHeader(requestID: id, serverMode: false),
                                                           key: key, padding: padding)))
            let (inbound, requestSize) = sealedInbound(message, from: requester.key, at: requester.address)
            guard let reply = sends(core.handle(inbound, nowMs: 10)).first?.message else { return nil }
            return (reply, requestSize, sealedSize(reply, from: dhtTestKey(7, salt: 3)))
        }
        guard let (bare, bareRequest, bareReply) = ask(padding: 0, id: 1),
              let (padded, paddedRequest, paddedReply) = ask(padding: 400, id: 2) else {
            Issue.record("FIND_VALUE is always answered")
            return
        }
        guard case let .dht(.nodes(nodes)) = bare else {
            Issue.record("an unpadded, unproven FIND_VALUE cannot get a 900-byte value: \(bare)")
            return
        }
        #expect(!nodes.contacts.isEmpty)
        #expect(bareReply <= 3 * bareRequest)
        #expect(padded == .dht(.value(ValueReply(requestID: 2, token: nodes.token, value: value))))
        #expect(paddedReply <= 3 * paddedRequest && paddedReply <= Envelope.maxDatagramSize)
    }

    @Test func onlyAServerModeRequesterThatAnswersOurPingEntersTheTable() {
        var core = responder()
        let target = requester.id
        func findNode(serverMode: Bool, id: UInt64) -> Message {
            .dht(.findNode(FindNode(header: DHTRequestHeader(requestID: id, serverMode: serverMode), target: target,
                                    padding: 400)))
        }

        let clientEffects = core.receive(findNode(serverMode: false, id: 1), from: requester, nowMs: 100)
        #expect(sends(clientEffects).count == 1)
        #expect(!core.table.contains(requester.id) && !core.table.isReplacement(requester.id))
        let outstanding = core.outstandingCount

        let serverEffects = core.receive(findNode(serverMode: true, id: 2), from: requester, nowMs: 200)
        let pings = sends(serverEffects).compactMap { sent -> UInt64? in
            if case let .ping(ping) = sent.message, sent.to == requester.address { return ping.nonce }
            return nil
        }
        #expect(pings.count == 1)
        // The answer leaves first: the requester, verifying in arrival order, is not kept waiting.
        if case .dht(.nodes) = sends(serverEffects).first?.message {} else {
            Issue.record("the Ping went out before the answer")
        }
        #expect(core.outstandingCount == outstanding + 1)
        #expect(!core.table.contains(requester.id), "a request alone never inserts")
        // A second request while the Ping is out does not ping again.
        #expect(sends(core.receive(findNode(serverMode: true, id: 3), from: requester, nowMs: 250)).count == 1)
        guard let nonce = pings.first else { return }
        #expect(core.awaitsPong(nonce: nonce))

        // A Pong from another key, or from another address, is not the answer.
        let pong = Message.pong(Pong(nonce: nonce, observedAddress: requester.address))
        let wrongKey = sealedInbound(pong, from: other.key, at: requester.address).inbound
        #expect(core.handle(wrongKey, nowMs: 300) == [.ignored(.unexpected)])
        let wrongAddress = sealedInbound(pong, from: requester.key, at: other.address).inbound
        #expect(core.handle(wrongAddress, nowMs: 300) == [.ignored(.unexpected)])
        #expect(!core.table.contains(requester.id))

        let answered = core.receive(pong, from: requester, nowMs: 300)
        #expect(answered.contains(.contactAdded(Contact(publicKey: requester.publicKey, address: requester.address,
                                                        lastSeenMs: 300))))
        #expect(core.table.contains(requester.id))
        #expect(!core.awaitsPong(nonce: nonce))
    }

    @Test func aFinishedLookupLeavesNoRequestBehind() {
        // No confirming self-lookup is scheduled, so any deadline left would be a forgotten request.
        var config = DHTCore.Config.small(k: 4, alpha: 3)
        config.confirmJoinAfterMs = 0
        var core = DHTCore(identity: dhtTestKey(9, salt: 3).publicKey, config: config, seed: 11, nowMs: 0)
        let holders = Array(peers.prefix(3))
        _ = core.joinScripted(holders, nowMs: 0)
        #expect(core.joinState == .joined)
        #expect(core.outstandingCount == 0 && core.lookupCount == 0)

        let value = Array("held by one of three".utf8)
        let effects = core.get(Blake2b.hash256(value), operation: 1, nowMs: 10)
        let asked = sends(effects).compactMap { sent -> (FindValue, ScriptedPeer)? in
            guard case let .dht(.findValue(request)) = sent.message else { return nil }
            return (request, holders.first { $0.address == sent.to }!)
        }
        #expect(asked.count == 3)
        guard let (request, holder) = asked.first else { return }
        let reply = ValueReply(requestID: request.header.requestID, token: [], value: value)
        #expect(core.wantsReply(.dht(.value(reply)), from: holder.key.publicKey, nowMs: 20))
        #expect(!core.wantsReply(.dht(.value(reply)), from: dhtTestKey(77, salt: 3).publicKey, nowMs: 20),
                "an answer from another key than asked is not worth checking")
        let unknown = ValueReply(requestID: request.header.requestID &+ 999, token: [], value: value)
        #expect(!core.wantsReply(.dht(.value(unknown)), from: holder.key.publicKey, nowMs: 20))
        let done = core.receive(.dht(.value(reply)), from: holder, nowMs: 20)
        #expect(finishedResults(done).first?.value == value)
        #expect(core.lookupCount == 0)
        // The others' answers are now late, from contacts the table holds: no signature check.
        for (late, asker) in asked.dropFirst() {
            let lateReply = NodesReply(requestID: late.header.requestID, token: [], contacts: [])
            #expect(core.table.contains(asker.key.publicKey.nodeID))
            #expect(!core.wantsReply(.dht(.nodes(lateReply)), from: asker.key.publicKey, nowMs: 30))
        }

        // The two others never answer: once their time is up nothing is left waiting.
        var nowMs: UInt64 = 20
        for _ in 0..<10 {
            nowMs += 500
            _ = core.tick(nowMs: nowMs)
        }
        #expect(core.outstandingCount == 0)
        #expect(core.nextDeadlineMs == nil)
    }
}

// MARK: - Bounded bookkeeping

struct DHTCoreBoundsTests {
    /// A STORE whose bookkeeping entry `track` dropped to stay within `maxOutstanding` must not
    /// keep its put from ever finishing.
    @Test func aPutFinishesEvenWhenAStoreEntryWasDroppedToStayBounded() {
        var config = DHTCore.Config.small(k: 4, alpha: 3)
        config.maxOutstanding = 3
        var core = DHTCore(identity: dhtTestKey(12, salt: 3).publicKey, config: config, seed: 14, nowMs: 0)
        let peers = (1...4).map { ScriptedPeer($0, salt: 0x77) }
        let token = [UInt8](repeating: 0x42, count: DHTLimits.tokenSize)
        _ = core.joinScripted(peers, through: [peers[0]], contacts: peers.map(\.wire), token: token, nowMs: 0)
        #expect(core.joinState == .joined)
        #expect(core.table.count == 4)

        var effects = core.put(Array("bounded".utf8), operation: 1, nowMs: 100)
        var stores: [(UInt64, ScriptedPeer)] = []
        var nowMs: UInt64 = 100
        for _ in 0..<10 {
            var next: [DHTCore.Effect] = []
            for (message, to) in sends(effects) {
                let peer = peers.first { $0.address == to }!
                switch message {
                case let .dht(.findNode(request)):
                    next += core.receive(.dht(.nodes(NodesReply(requestID: request.header.requestID, token: token,
                                                                contacts: []))), from: peer, nowMs: nowMs)
                case let .dht(.store(request)):
                    stores.append((request.header.requestID, peer))
                default: break
                }
            }
            effects = next
        }
        #expect(stores.count == 4)
        #expect(core.outstandingCount <= 3)
        var finished: [DHTResult] = []
        for (id, peer) in stores {
            let reply = StoreReply(requestID: id, token: token, status: .stored)
            finished += finishedResults(core.receive(.dht(.stored(reply)), from: peer, nowMs: nowMs))
        }
        for _ in 0..<5 {
            nowMs += 1_000
            finished += finishedResults(core.tick(nowMs: nowMs))
        }
        #expect(finished.count == 1, "the put never finished")
        #expect(finished.first?.succeeded == true)
        #expect(finished.first.map { $0.storedAt >= 3 } == true)
        #expect(core.lookupCount == 0)
        #expect(core.outstandingCount == 0)
    }

    /// Requests from others while joining can push the seed Ping out of the bounded table; the
    /// join attempt must still end (and be retried) instead of waiting forever.
    @Test func aJoinAttemptEndsEvenWhenItsSeedPingWasDroppedToStayBounded() {
        var config = DHTCore.Config.small(k: 4)
        config.maxOutstanding = 2
        var core = DHTCore(identity: dhtTestKey(13, salt: 3).publicKey, config: config, seed: 15, nowMs: 0)
        _ = core.join(bootstrap: [PeerAddress.ipv4(192, 0, 2, 7, port: 9)], saved: [], nowMs: 0)
        for n in 1...2 {
            let asker = ScriptedPeer(n, salt: 0x78)
            let request = FindNode(header: DHTRequestHeader(requestID: UInt64(n), serverMode: true), target: asker.id,
                                   padding: 400)
            _ = core.receive(.dht(.findNode(request)), from: asker, nowMs: UInt64(n) * 10)
        }
        #expect(core.outstandingCount <= 2)
        var failures = 0
        var nowMs: UInt64 = 0
        for _ in 0..<10 {
            nowMs += 500
            failures += core.tick(nowMs: nowMs).filter { if case .joinFailed = $0 { return true } else { return false } }.count
        }
        #expect(failures >= 1, "the join stayed in \(core.joinState)")
    }
}

// MARK: - Lookups against scripted peers

struct DHTCoreScriptedLookupTests {
    /// A joined core (α = 1) that knows two scripted peers, and the key of `value`: the peer
    /// nearer that key is asked first.
    static func coreWithTwoPeers(for value: [UInt8]) -> (DHTCore, key: Digest32, nearer: ScriptedPeer, farther: ScriptedPeer) {
        var core = DHTCore(identity: dhtTestKey(10, salt: 3).publicKey, config: .small(k: 4, alpha: 1), seed: 12, nowMs: 0)
        let key = Blake2b.hash256(value)
        let pair = [ScriptedPeer(1), ScriptedPeer(2)].sorted {
            XORMetric.isCloser($0.id, than: $1.id, to: NodeID(digest: key))
        }
        _ = core.joinScripted(pair, nowMs: 0)
        return (core, key, pair[0], pair[1])
    }

    /// `coreWithTwoPeers` with a get of `value`'s key started at 10 ms, and its one FIND_VALUE
    /// (α = 1), to the nearer peer; nil (an issue recorded) otherwise.
    static func getAskingTheNearerPeer(for value: [UInt8])
        -> (core: DHTCore, key: Digest32, nearer: ScriptedPeer, farther: ScriptedPeer, request: FindValue)? {
        let (joined, key, nearer, farther) = coreWithTwoPeers(for: value)
        var core = joined
        let first = sends(core.get(key, operation: 1, nowMs: 10))
        guard first.count == 1, first[0].to == nearer.address, case let .dht(.findValue(request)) = first[0].message else {
            Issue.record("with α = 1 the nearer peer is asked first: \(first)")
            return nil
        }
        return (core, key, nearer, farther, request)
    }

    @Test func aForgedValueIsReportedAndTheGetAsksOn() {
        let value = Array("the genuine value".utf8)
        guard let started = Self.getAskingTheNearerPeer(for: value) else { return }
        var core = started.core
        let (liar, honest, request) = (started.nearer, started.farther, started.request)
        let forged = ValueReply(requestID: request.header.requestID, token: [], value: Array("forged".utf8))
        let afterLie = core.receive(.dht(.value(forged)), from: liar, nowMs: 20)
        #expect(afterLie.contains { if case .misbehaved(liar.publicKey, _) = $0 { return true } else { return false } })
        #expect(finishedResults(afterLie).isEmpty)
        guard let next = sends(afterLie).first, next.to == honest.address,
              case let .dht(.findValue(second)) = next.message else {
            Issue.record("the get goes on with the next peer: \(afterLie)")
            return
        }
        let genuine = ValueReply(requestID: second.header.requestID, token: [], value: value)
        let done = finishedResults(core.receive(.dht(.value(genuine)), from: honest, nowMs: 30))
        #expect(done.count == 1)
        #expect(done.first?.value == value && done.first?.succeeded == true)
        #expect(done.first?.closest.map(\.id) == [honest.id])
    }

    @Test func aGetReportsItsValueAtOnceAndRepairsTheNearerNodeAfterwards() {
        let value = Array("a value the nearer node lost".utf8)
        guard let started = Self.getAskingTheNearerPeer(for: value) else { return }
        var core = started.core
        let (nearer, holder, toNearer) = (started.nearer, started.farther, started.request)
        // The nearer node has lost the value; its answer carries a token for a later STORE.
        let token = [UInt8](repeating: 7, count: DHTLimits.tokenSize)
        let afterNearer = core.receive(.dht(.nodes(NodesReply(requestID: toNearer.header.requestID, token: token, contacts: []))),
                                       from: nearer, nowMs: 20)
        guard let second = sends(afterNearer).first, second.to == holder.address,
              case let .dht(.findValue(toHolder)) = second.message else {
            Issue.record("the get goes on with the holder: \(afterNearer)")
            return
        }
        let found = core.receive(.dht(.value(ValueReply(requestID: toHolder.header.requestID, token: [], value: value))),
                                 from: holder, nowMs: 30)
        // The value is reported in the step that found it, while the repair STORE is on its way.
        #expect(finishedResults(found).map(\.value) == [value])
        guard let repair = sends(found).first(where: { $0.to == nearer.address }), case let .dht(.store(store)) = repair.message else {
            Issue.record("the nearer node is sent a copy: \(found)")
            return
        }
        #expect(store.value == value && store.header.token == token)
        // Its answer completes the repair and reports nothing more.
        let stored = core.receive(.dht(.stored(StoreReply(requestID: store.header.requestID, token: [], status: .stored))),
                                  from: nearer, nowMs: 40)
        #expect(finishedResults(stored).isEmpty)
        #expect(core.lookups.isEmpty)
    }

    /// The node hands a decoded Value to the core before its signature check: only a value that
    /// hashes to the key, from the key asked, for the request asked, finishes the get then, and the
    /// checked reply that follows reports nothing more.
    @Test func aValueThatProvesItselfFinishesTheGetBeforeTheSignatureCheck() {
        let value = Array("a value that proves itself".utf8)
        guard let started = Self.getAskingTheNearerPeer(for: value) else { return }
        var core = started.core
        let (nearer, farther, request) = (started.nearer, started.farther, started.request)
        let id = request.header.requestID
        let wrongValue = Message.dht(.value(ValueReply(requestID: id, token: [], value: Array("forged".utf8))))
        let genuine = Message.dht(.value(ValueReply(requestID: id, token: [], value: value)))
        let otherRequest = Message.dht(.value(ValueReply(requestID: id &+ 1, token: [], value: value)))
        #expect(core.takeSelfCertifyingValue(wrongValue, from: nearer.publicKey, nowMs: 15).isEmpty)
        #expect(core.takeSelfCertifyingValue(genuine, from: farther.publicKey, nowMs: 15).isEmpty)
        #expect(core.takeSelfCertifyingValue(otherRequest, from: nearer.publicKey, nowMs: 15).isEmpty)
        #expect(core.lookupCount == 1, "nothing unproven ended the get")

        let early = finishedResults(core.takeSelfCertifyingValue(genuine, from: nearer.publicKey, nowMs: 16))
        #expect(early.map(\.value) == [value] && early.first?.succeeded == true)
        #expect(core.takeSelfCertifyingValue(genuine, from: nearer.publicKey, nowMs: 17).isEmpty)
        // The checked reply (if the pipeline still verifies it) adds no second result.
        #expect(finishedResults(core.receive(genuine, from: nearer, nowMs: 18)).isEmpty)
        #expect(core.lookups.isEmpty)
    }

    /// Two peers in bucket 0 of `core` (k = 1 there), found by trying seeds.
    static func twoInOneBucket(of core: DHTCore) -> (ScriptedPeer, ScriptedPeer) {
        let candidates = (1...64).map { ScriptedPeer($0, salt: 0x66) }.filter { core.table.bucketIndex(of: $0.id) == 0 }
        return (candidates[0], candidates[1])
    }

    static func livenessConfig() -> DHTCore.Config {
        var config = DHTCore.Config.small(k: 1)
        config.routing.livenessCheckAfterMs = 0
        config.lookup.k = 2
        config.lookup.requestTimeoutMs = 200
        config.lookup.maxRetries = 0
        config.requestTimeoutMs = 2_000
        return config
    }

    /// The core holds `old` in a full bucket and `newcomer` waits in its cache; a liveness Ping
    /// of `old` went out at 20 ms. Returns that Ping's nonce.
    static func fullBucketWithAWaitingNewcomer(_ core: inout DHTCore, old: ScriptedPeer, newcomer: ScriptedPeer) -> UInt64? {
        var effects = core.join(bootstrap: [old.address], saved: [], nowMs: 0)
        guard case let .ping(ping)? = sends(effects).first?.message else { return nil }
        effects = core.receive(.pong(Pong(nonce: ping.nonce, observedAddress: old.address)), from: old, nowMs: 0)
        guard case let .dht(.findNode(toOld))? = sends(effects).first?.message else { return nil }
        effects = core.receive(.dht(.nodes(NodesReply(requestID: toOld.header.requestID, token: [],
                                                      contacts: [newcomer.wire]))), from: old, nowMs: 10)
        guard case let .dht(.findNode(toNew))? = sends(effects).first?.message else { return nil }
        effects = core.receive(.dht(.nodes(NodesReply(requestID: toNew.header.requestID, token: [], contacts: []))),
                               from: newcomer, nowMs: 20)
        #expect(core.joinState == .joined)
        #expect(core.table.contains(old.id) && core.table.isReplacement(newcomer.id))
        for (message, to) in sends(effects) where to == old.address {
            if case let .ping(liveness) = message { return liveness.nonce }
        }
        return nil
    }

    /// A core whose only full bucket holds `old`, with `newcomer` waiting in its cache and a
    /// liveness Ping out to `old`; nil (with the issue recorded) when the setup did not get there.
    static func coreWithAWaitingNewcomer() -> (DHTCore, old: ScriptedPeer, newcomer: ScriptedPeer)? {
        var core = DHTCore(identity: dhtTestKey(11, salt: 3).publicKey, config: livenessConfig(), seed: 13, nowMs: 0)
        let (old, newcomer) = twoInOneBucket(of: core)
        guard fullBucketWithAWaitingNewcomer(&core, old: old, newcomer: newcomer) != nil else {
            Issue.record("a full bucket with a newcomer waiting pings its oldest entry")
            return nil
        }
        return (core, old, newcomer)
    }

    /// Starts a FIND_NODE for `target` whose first request goes to `old`, and has `old` answer
    /// 10 ms later naming `named`; returns what that answer caused (nil, with the issue recorded,
    /// when the lookup did not ask `old` first).
    static func lookup(_ target: NodeID, on core: inout DHTCore, answeredBy old: ScriptedPeer, naming named: [ScriptedPeer],
                       nowMs: UInt64) -> [DHTCore.Effect]? {
        let effects = core.findNode(target, operation: 1, nowMs: nowMs)
        guard case let .dht(.findNode(toOld))? = sends(effects).first?.message, sends(effects).first?.to == old.address else {
            Issue.record("the lookup asks the table's only contact")
            return nil
        }
        return core.receive(.dht(.nodes(NodesReply(requestID: toOld.header.requestID, token: [],
                                                   contacts: named.map(\.wire)))), from: old, nowMs: nowMs + 10)
    }

    @Test func aFailedLivenessPingEvictsWhenAReplacementWaits() {
        guard let (start, old, newcomer) = Self.coreWithAWaitingNewcomer() else { return }
        var core = start
        #expect(core.tick(nowMs: 2_019).isEmpty)
        let effects = core.tick(nowMs: 2_020)
        #expect(effects.contains(.contactEvicted(Contact(publicKey: old.publicKey, address: old.address, lastSeenMs: 10))))
        #expect(effects.contains(.peerTimedOut(old.publicKey)), "the shell scores the silent contact")
        #expect(effects.contains { if case let .contactAdded(contact) = $0 { return contact.id == newcomer.id } else { return false } })
        #expect(!core.table.contains(old.id) && core.table.contains(newcomer.id))
    }

    @Test func aFailedLivenessPingKeepsTheEntryWhenNoReplacementWaits() {
        guard let (start, old, newcomer) = Self.coreWithAWaitingNewcomer() else { return }
        var core = start
        // The newcomer fails a request of a later lookup and leaves the cache.
        guard var effects = Self.lookup(old.id, on: &core, answeredBy: old, naming: [newcomer], nowMs: 30) else { return }
        #expect(sends(effects).map(\.to) == [newcomer.address])
        #expect(effects.contains(.peerAnswered(old.publicKey)))
        effects = core.tick(nowMs: 240)
        #expect(finishedResults(effects).map { $0.closest.map(\.id) } == [[old.id]])
        #expect(effects.filter { $0 == .peerTimedOut(newcomer.publicKey) }.count == 1, "one timeout per failed request")
        #expect(!effects.contains(.peerTimedOut(old.publicKey)))
        #expect(!core.table.isReplacement(newcomer.id))

        effects = core.tick(nowMs: 2_020)
        #expect(!effects.contains { if case .contactEvicted = $0 { return true } else { return false } })
        #expect(core.table.contains(old.id))
        #expect(core.table.count == 1)
    }

    /// A contact we know only from someone's reply did not prove its key is at that address (the
    /// reply may pair an honest key with a dead one): its silence fails the request, unscored.
    @Test func aSilentContactNamedOnlyByOthersIsNotScored() {
        guard let (start, old, _) = Self.coreWithAWaitingNewcomer() else { return }
        var core = start
        let stranger = ScriptedPeer(200, salt: 0x66)
        guard var effects = Self.lookup(stranger.id, on: &core, answeredBy: old, naming: [stranger], nowMs: 30) else { return }
        #expect(sends(effects).map(\.to).contains(stranger.address))
        effects = core.tick(nowMs: 240)
        #expect(finishedResults(effects).count == 1)
        #expect(!effects.contains(.peerTimedOut(stranger.publicKey)))
    }

    /// A peer banned by key or by IP address is not asked when another node names it, until its
    /// ban ends.
    @Test func lookupsSkipABannedPeerUntilItsBanEnds() {
        guard let (start, old, _) = Self.coreWithAWaitingNewcomer() else { return }
        let stranger = ScriptedPeer(200, salt: 0x66)
        func asksStranger(_ ban: (inout DHTCore) -> Void, at nowMs: UInt64) -> Bool {
            var core = start
            ban(&core)
            let reply = Self.lookup(stranger.id, on: &core, answeredBy: old, naming: [stranger], nowMs: nowMs)
            return sends(reply ?? []).map(\.to).contains(stranger.address)
        }
        #expect(asksStranger({ _ in }, at: 30))
        #expect(!asksStranger({ _ = $0.forget(key: stranger.publicKey, untilMs: 1_000, nowMs: 25) }, at: 30))
        #expect(!asksStranger({ _ = $0.forget(host: stranger.address.reputationHost, untilMs: 1_000, nowMs: 25) }, at: 30))
        #expect(asksStranger({ _ = $0.forget(key: stranger.publicKey, untilMs: 1_000, nowMs: 25) }, at: 1_000))
    }

    /// A ban that lands while a lookup waits on the peer ends that wait: the lookup finishes with
    /// the others at once instead of after the request's timeout.
    @Test func aBanDuringALookupStopsItWaitingForThePeer() {
        guard let (start, old, _) = Self.coreWithAWaitingNewcomer() else { return }
        var core = start
        let stranger = ScriptedPeer(200, salt: 0x66)
        guard let asked = Self.lookup(stranger.id, on: &core, answeredBy: old, naming: [stranger], nowMs: 30) else { return }
        #expect(sends(asked).map(\.to).contains(stranger.address))
        let waiting = core.outstandingCount
        let effects = core.forget(key: stranger.publicKey, untilMs: 10_000, nowMs: 45)
        #expect(finishedResults(effects).map { $0.closest.map(\.id) } == [[old.id]])
        #expect(core.outstandingCount == waiting - 1, "the request to the banned peer is abandoned")
        #expect(core.lookupCount == 0)
    }

    /// A banned key leaves the table and a replacement takes the freed slot; a banned IP address
    /// takes every contact there, in the cache too, and only those.
    @Test func forgettingABannedPeerEmptiesItsSlotForAReplacement() {
        guard let (start, old, newcomer) = Self.coreWithAWaitingNewcomer() else { return }
        var core = start
        let effects = core.forget(key: old.publicKey, untilMs: 10_000, nowMs: 50)
        #expect(effects.contains { if case let .contactEvicted(contact) = $0 { return contact.id == old.id } else { return false } })
        #expect(!core.table.contains(old.id) && core.table.contains(newcomer.id))
        #expect(core.forget(key: old.publicKey, untilMs: 10_000, nowMs: 51).isEmpty, "forgetting twice does nothing")

        core = start
        _ = core.forget(host: newcomer.address.reputationHost, untilMs: 10_000, nowMs: 60)
        #expect(!core.table.isReplacement(newcomer.id), "a cached contact of the host goes too")
        #expect(core.table.contains(old.id), "a contact of another host stays")
        _ = core.forget(host: old.address.reputationHost, untilMs: 10_000, nowMs: 61)
        #expect(core.table.count == 0 && core.table.replacementCount == 0)
    }
}
