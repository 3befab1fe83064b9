import NIOCore
import Testing
@testable import PRSMCore

/// A deterministic signing key for tests: seed bytes derived from `n`.
func dhtTestKey(_ n: Int, salt: UInt8 = 0) -> SigningKey {
    var seed = [UInt8](repeating: salt, count: 32)
    seed[0] = UInt8(n & 0xFF)
    seed[1] = UInt8((n >> 8) & 0xFF)
    seed[2] = 0xD7
    return try! SigningKey(seed: seed)
}

extension DHTCore.Config {
    /// Small k and short timeouts, so a few dozen nodes fill their tables quickly.
    static func small(k: Int = 4, alpha: Int = 3) -> DHTCore.Config {
        var config = DHTCore.Config()
        config.routing.k = k
        config.routing.replacementCacheSize = 4
        config.lookup.k = k
        config.lookup.alpha = alpha
        config.lookup.requestTimeoutMs = 1_000
        config.requestTimeoutMs = 1_000
        config.joinRetryBaseMs = 500
        config.joinRetryMaxMs = 4_000
        return config
    }
}

/// A sealed, parsed and decoded message, as the receive pipeline hands it to a core; the sender's
/// key signs the envelope, so `Inbound.sender` is that key's public key.
func sealedInbound(_ message: Message, from key: SigningKey, at address: PeerAddress, sequence: UInt64 = 1)
    -> (inbound: Inbound, size: Int) {
    let bytes = Envelope.seal(message, networkID: Devnet.genesis.networkID, key: key, sequence: sequence,
                              timestamp: Devnet.timeMs)
    let envelope = try! Envelope.parse(bytes)
    #expect(envelope.hasValidSignature(in: bytes))
    let decoded = try! Message.decode(kind: envelope.kind, payload: envelope.payload)
    #expect(decoded == message, "the message does not survive encoding")
    return (Inbound(envelope: envelope, message: decoded, source: address), bytes.readableBytes)
}

/// The sealed size of `message` as a datagram.
func sealedSize(_ message: Message, from key: SigningKey) -> Int {
    Envelope.seal(message, networkID: Devnet.genesis.networkID, key: key, sequence: 1, timestamp: 1).readableBytes
}

/// A tiny in-memory network of `DHTCore`s. Every `.send` effect becomes a datagram delivered, in
/// order, to the core at that address, sealed by the sending core's key. Pings are answered with
/// Pongs, as the node's peer layer does. Time moves only when the test says so.
struct DHTTestNetwork {
    struct Node {
        let key: SigningKey
        let address: PeerAddress
        var core: DHTCore
        var effects: [DHTCore.Effect] = []
        var up = true
    }

    struct Datagram {
        let from: Int
        let to: PeerAddress
        let message: Message
    }

    var nodes: [Node] = []
    var byAddress: [PeerAddress: Int] = [:]
    var queue: [Datagram] = []
    var queueHead = 0
    var nowMs: UInt64 = 0
    var sequence: UInt64 = 1
    /// (receiver, sender) pairs: `sender` answered one of `receiver`'s requests (a Pong or a DHT reply).
    var replied: Set<[Int]> = []
    /// Nodes that Pings do not reach (lost on a busy network); other messages still do.
    var lostPingsTo: Set<Int> = []
    /// Nodes whose FIND_VALUE answers are replaced by a value that does not hash to the key.
    var liars: Set<Int> = []
    /// Datagrams delivered, and the largest seen.
    var delivered = 0
    var largestDatagram = 0
    var maxOutstandingSeen = 0
    /// Violations of "a contact enters a table only after it answered".
    var unearnedAdds: [String] = []

    init(count: Int, config: DHTCore.Config, salt: UInt8 = 0, configure: (Int, inout DHTCore) -> Void = { _, _ in }) {
        for _ in 0..<count { addNode(config: config, salt: salt, configure: configure) }
    }

    @discardableResult
    mutating func addNode(config: DHTCore.Config, salt: UInt8 = 0, configure: (Int, inout DHTCore) -> Void = { _, _ in })
        -> Int {
        let n = nodes.count
        let key = dhtTestKey(n, salt: salt)
        let address = distinctAddress(n + 1)
        var core = DHTCore(identity: key.publicKey, config: config, seed: UInt64(n) &* 7_919 &+ UInt64(salt), nowMs: nowMs)
        configure(n, &core)
        nodes.append(Node(key: key, address: address, core: core))
        byAddress[address] = n
        return n
    }

    func index(of id: NodeID) -> Int? { nodes.firstIndex { $0.core.ownID == id } }

    // MARK: Driving

    mutating func apply(_ effects: [DHTCore.Effect], at n: Int) {
        nodes[n].effects += effects
        for effect in effects {
            switch effect {
            case let .send(message, to): queue.append(Datagram(from: n, to: to, message: message))
            case let .contactAdded(contact):
                if let other = index(of: contact.id), !replied.contains([n, other]) {
                    unearnedAdds.append("node \(n) added node \(other) that never answered it")
                }
            default: break
            }
        }
        maxOutstandingSeen = max(maxOutstandingSeen, nodes[n].core.outstandingCount)
        #expect(nodes[n].core.outstandingCount <= nodes[n].core.config.maxOutstanding)
    }

    mutating func join(_ n: Int, through bootstrap: [Int], saved: [WireContact] = []) {
        let effects = nodes[n].core.join(bootstrap: bootstrap.map { nodes[$0].address }, saved: saved, nowMs: nowMs)
        apply(effects, at: n)
    }

    mutating func call(_ n: Int, _ body: (inout DHTCore, UInt64) -> [DHTCore.Effect]) {
        let effects = body(&nodes[n].core, nowMs)
        apply(effects, at: n)
    }

    /// Delivers queued datagrams (and whatever they cause) until the queue is empty.
    mutating func deliver(limit: Int = 200_000) {
        var steps = 0
        while queueHead < queue.count {
            steps += 1
            guard steps <= limit else {
                Issue.record("the network did not quiesce")
                return
            }
            let datagram = queue[queueHead]
            queueHead += 1
            if queueHead > 4_096 {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            guard let to = byAddress[datagram.to], nodes[to].up, nodes[datagram.from].up else { continue }
            let message = datagram.message
            if case .ping = message, lostPingsTo.contains(to) { continue }
            if case let .ping(ping) = message {
                // The peer layer answers Pings; the Pong goes back from `to`.
                queue.append(Datagram(from: to, to: nodes[datagram.from].address,
                                      message: .pong(Pong(nonce: ping.nonce, observedAddress: nodes[datagram.from].address))))
                continue
            }
            if liars.contains(to), case let .dht(.findValue(request)) = message {
                // A liar answers every FIND_VALUE with a value that does not hash to the key.
                let forged = ValueReply(requestID: request.header.requestID, token: [], value: Array("forged".utf8))
                queue.append(Datagram(from: to, to: nodes[datagram.from].address, message: .dht(.value(forged))))
                continue
            }
            sequence += 1
            let (inbound, size) = sealedInbound(message, from: nodes[datagram.from].key, at: nodes[datagram.from].address,
                                                sequence: sequence)
            delivered += 1
            largestDatagram = max(largestDatagram, size)
            #expect(size <= Envelope.maxDatagramSize)
            if message.isReply { replied.insert([to, datagram.from]) }
            let effects = nodes[to].core.handle(inbound, nowMs: nowMs)
            apply(effects, at: to)
        }
    }

    /// Lets `ms` pass in steps of `stepMs`, ticking every live core and delivering after each step.
    mutating func advance(by ms: UInt64, stepMs: UInt64 = 100) {
        let end = nowMs + ms
        deliver()
        while nowMs < end {
            nowMs = min(end, nowMs + stepMs)
            for n in nodes.indices where nodes[n].up {
                let effects = nodes[n].core.tick(nowMs: nowMs)
                apply(effects, at: n)
            }
            deliver()
        }
    }

    // MARK: Reading results

    func results(_ n: Int) -> [DHTResult] {
        nodes[n].effects.compactMap { if case let .finished(result) = $0 { return result } else { return nil } }
    }

    func result(_ n: Int, operation: UInt64) -> DHTResult? { results(n).first { $0.operation == operation } }

    func joinedEffects(_ n: Int) -> [Int] {
        nodes[n].effects.compactMap { if case let .joined(contacts) = $0 { return contacts } else { return nil } }
    }

    func holders(of key: Digest32) -> [Int] {
        nodes.indices.filter { nodes[$0].core.records.value(for: key, nowMs: nowMs) != nil }
    }

    /// The `count` node ids closest to `target` among live nodes passing `include`.
    func trueClosest(to target: NodeID, count: Int, include: (Int) -> Bool = { _ in true }) -> [NodeID] {
        let ids = nodes.indices.filter { nodes[$0].up && include($0) }.map { nodes[$0].core.ownID }
        return Array(XORMetric.sorted(ids, by: { $0 }, to: target).prefix(count))
    }
}

extension Message {
    /// A reply to one of the receiver's requests.
    var isReply: Bool {
        switch self {
        case .pong: return true
        case let .dht(message): return message.replyID != nil
        default: return false
        }
    }
}
