import Testing
@testable import PRSMCore

// MARK: Keys, validator sets, certificates

/// A deterministic validator key: seed bytes derived from `index` (distinct from the DHT test keys).
func consensusKey(_ index: Int) -> SigningKey {
    var seed = [UInt8](repeating: 0xC5, count: 32)
    seed[0] = UInt8(index & 0xFF)
    seed[1] = UInt8((index >> 8) & 0xFF)
    return try! SigningKey(seed: seed)
}

/// Validators 0..<powers.count with the given powers, and their keys.
func consensusValidators(powers: [UInt64], epoch: UInt64 = 0) -> (set: ValidatorSet, keys: [SigningKey]) {
    let keys = powers.indices.map(consensusKey)
    let set = ValidatorSet(epoch: epoch, validators: zip(keys, powers).map {
        Genesis.Validator(publicKey: $0.publicKey, nodeKey: $0.publicKey, power: $1)
    })
    return (set, keys)
}

/// A vote by `keys[index]` for `block`, signed as the core would sign it.
func consensusVote(for block: Block, by index: Int, keys: [SigningKey], epoch: UInt64 = 0) -> Vote {
    let signature = keys[index].sign(Vote.signingBytes(epoch: epoch, view: block.view, blockHash: block.hash))
    return Vote(epoch: epoch, view: block.view, blockHash: block.hash, voter: SignedBy(index: index, signature: signature))
}

/// A QC for `block` signed by `signers`.
func consensusQC(for block: Block, signers: [Int], keys: [SigningKey], epoch: UInt64 = 0) -> QuorumCertificate {
    QuorumCertificate(view: block.view, blockHash: block.hash,
                      votes: signers.map { consensusVote(for: block, by: $0, keys: keys, epoch: epoch).voter })
}

/// A TC for `view` signed by `signers`, each reporting `highQCView`.
func consensusTC(view: UInt64, signers: [Int], highQCView: UInt64, keys: [SigningKey], epoch: UInt64 = 0)
    -> TimeoutCertificate {
    TimeoutCertificate(view: view, entries: signers.map { index in
        let bytes = TimeoutVote.signingBytes(epoch: epoch, view: view, highQCView: highQCView)
        return .init(signer: SignedBy(index: index, signature: keys[index].sign(bytes)), highQCView: highQCView)
    })
}

/// The child of `parent` in `view`, justified by `justify` (a QC for `parent`).
func consensusBlock(view: UInt64, parent: Block, justify: QuorumCertificate, tc: TimeoutCertificate? = nil,
                    proposer: Int, transactions: [[UInt8]]? = nil, epoch: UInt64 = 0) -> Block {
    Block(epoch: epoch, view: view, height: parent.height + 1, parent: parent.hash, justify: justify,
          timeoutCertificate: tc, proposer: proposer,
          transactions: (transactions ?? [Array("tx-v\(view)-p\(proposer)".utf8)]).map(consensusTransaction))
}

/// The same block with one bit of one QC signature flipped.
func consensusFlipSignature(in qc: QuorumCertificate, at position: Int = 0) -> QuorumCertificate {
    var votes = qc.votes
    var bytes = votes[position].signature.bytes
    bytes[7] ^= 0x01
    votes[position] = SignedBy(index: votes[position].index, signature: try! Signature(bytes))
    return QuorumCertificate(view: qc.view, blockHash: qc.blockHash, votes: votes)
}

struct ConsensusTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: The in-test network

/// A deterministic network of `ConsensusCore`s. Nodes are numbered 0..<nodes.count; node `i` holds
/// the key of validator `keyIndex[i]` (two nodes may share one key: Twins). `.broadcast` goes to every
/// other node, `.send(_, to: v)` to every node holding validator `v`'s key. Messages have no latency;
/// delivery is FIFO, or a seeded random pick from the queue. When the queue is empty every live
/// node is ticked, and then the clock jumps to the next deadline.
struct ConsensusNetwork {
    struct Packet {
        let fromNode: Int?
        let sender: Int
        let to: Int
        let message: ConsensusCore.Message
        /// Block-sync answers bypass the drop filter (it was applied to the request).
        var bypassFilter = false
    }

    struct Node {
        var core: ConsensusCore
        let keyIndex: Int
        var crashed = false
        var commits: [Block] = []
        var persisted: ConsensusCore.SafetyState?
        var votesSent: [Vote] = []
        var timeoutsSent: [TimeoutVote] = []
        /// When each timeout (first sends and re-sends) left.
        var timeoutTimesMs: [UInt64] = []
        var proposed: [Block] = []
        var misbehaved: [(validator: Int, reason: String)] = []
        var ignored: [String] = []
        /// (view, view timeout length) each time the node enters a view.
        var viewEntries: [(view: UInt64, timeoutMs: UInt64)] = []
    }

    let validators: ValidatorSet
    let keys: [SigningKey]
    var nodes: [Node]
    var queue: [Packet] = []
    var nowMs: UInt64 = 0
    var random: ConsensusTestRandom?
    /// True drops the packet (from node, to node, message). Node `nil` = injected.
    var drop: (_ from: Int?, _ to: Int, _ message: ConsensusCore.Message) -> Bool = { _, _, _ in false }
    /// Called with every proposal a node makes; returns packets to inject at the front and at the back
    /// of the queue (a Byzantine leader's second proposal).
    var onPropose: ((Block) -> (front: [Packet], back: [Packet]))?
    /// Broken invariants found while running (persist order, commit order, latency).
    var violations: [String] = []
    /// The transactions the network handed to the proposer of each block.
    var proposedTransactions: [Digest32: [Transaction]] = [:]
    /// Every vote observed per validator: sent ones and the signers of every QC in a proposal.
    var voteEvidence: [Int: [UInt64: Set<Digest32>]] = [:]
    /// Check after every step that no node committed before a 2-chain (only for runs without TCs).
    var checkTightCommitLatency = false
    var steps = 0
    var syncAttempts: [String: Int] = [:]

    /// Votes go to the next leader only unless a test asks for broadcast: the scripted tests
    /// (timer sequences, Twins cuts) follow Jolteon's linear pattern.
    init(powers: [UInt64] = [1, 1, 1, 1], keyIndex: [Int]? = nil, config: ConsensusCore.Config = .votesToNextLeader,
         seed: UInt64? = nil) {
        (validators, keys) = consensusValidators(powers: powers)
        let assignment = keyIndex ?? Array(powers.indices)
        nodes = assignment.map { index in
            Node(core: ConsensusCore(config: config, validators: consensusValidators(powers: powers).set,
                                     key: consensusKey(index)), keyIndex: index)
        }
        random = seed.map(ConsensusTestRandom.init(seed:))
    }

    // MARK: Driving

    mutating func start() {
        for node in nodes.indices where !nodes[node].crashed {
            apply(nodes[node].core.start(nowMs: nowMs), at: node)
        }
    }

    /// Replaces node `node`'s core with a fresh one holding `safety` (what it persisted) and starts it.
    mutating func restart(_ node: Int, safety: ConsensusCore.SafetyState?) {
        let old = nodes[node].core
        nodes[node].core = ConsensusCore(config: old.config, validators: old.validators,
                                         key: consensusKey(nodes[node].keyIndex),
                                         safety: safety ?? ConsensusCore.SafetyState())
        nodes[node].crashed = false
        apply(nodes[node].core.start(nowMs: nowMs), at: node)
    }

    /// Runs until `done` holds (true) or the clock passes `untilMs` / nothing can happen (false).
    @discardableResult
    mutating func run(untilMs: UInt64, maxSteps: Int = 500_000, _ done: (ConsensusNetwork) -> Bool = { _ in false })
        -> Bool {
        var budget = maxSteps
        while budget > 0 {
            budget -= 1
            if done(self) { return true }
            if !queue.isEmpty {
                var position = 0
                if var generator = random {
                    position = Int.random(in: 0..<queue.count, using: &generator)
                    random = generator
                }
                deliver(queue.remove(at: position))
                continue
            }
            for node in nodes.indices where !nodes[node].crashed {
                apply(nodes[node].core.tick(nowMs: nowMs), at: node)
            }
            if !queue.isEmpty { continue }
            let next = nodes.filter { !$0.crashed }.map(\.core.nextDeadlineMs).filter { $0 > nowMs }.min()
            guard let next, next <= untilMs else {
                if let next { nowMs = max(nowMs, min(next, untilMs)) } else { nowMs = max(nowMs, untilMs) }
                return done(self)
            }
            nowMs = next
        }
        Issue.record("network ran out of steps at \(nowMs) ms")
        return done(self)
    }

    /// Runs until every node in `among` committed at least `count` blocks.
    @discardableResult
    mutating func runUntilCommitted(_ count: Int, among: [Int]? = nil, untilMs: UInt64) -> Bool {
        let group = among ?? Array(nodes.indices)
        return run(untilMs: untilMs) { network in group.allSatisfy { network.nodes[$0].commits.count >= count } }
    }

    mutating func inject(_ message: ConsensusCore.Message, from sender: Int, to targets: [Int], front: Bool = false) {
        let packets = targets.map { Packet(fromNode: nil, sender: sender, to: $0, message: message) }
        if front { queue.insert(contentsOf: packets, at: 0) } else { queue.append(contentsOf: packets) }
        if case let .proposal(block) = message { observe(block) }
    }

    mutating func deliver(_ packet: Packet) {
        steps += 1
        if !packet.bypassFilter, drop(packet.fromNode, packet.to, packet.message) { return }
        guard !nodes[packet.to].crashed else { return }
        let effects = nodes[packet.to].core.receive(packet.message, from: packet.sender, nowMs: nowMs)
        apply(effects, at: packet.to, cause: packet)
    }

    // MARK: Effects

    mutating func apply(_ effects: [ConsensusCore.Effect], at node: Int, cause: Packet? = nil) {
        let viewBefore = nodes[node].viewEntries.last?.view ?? 0
        var persistedHere: ConsensusCore.SafetyState?
        var proposeViews: [UInt64] = []
        let me = nodes[node].keyIndex
        for effect in effects {
            switch effect {
            case let .persist(state):
                if let previous = nodes[node].persisted,
                   state.highestVotedView < previous.highestVotedView || state.lockedView < previous.lockedView {
                    violations.append("node \(node) persisted a regressing safety state \(state) after \(previous)")
                }
                nodes[node].persisted = state
                persistedHere = state
            case let .broadcast(message):
                checkProtected(message, node: node, persistedHere: persistedHere)
                record(message, node: node)
                for other in nodes.indices where other != node {
                    queue.append(Packet(fromNode: node, sender: me, to: other, message: message))
                }
            case let .send(message, to: target):
                checkProtected(message, node: node, persistedHere: persistedHere)
                record(message, node: node)
                for other in nodes.indices where other != node && nodes[other].keyIndex == target {
                    queue.append(Packet(fromNode: node, sender: me, to: other, message: message))
                }
            case let .proposeNow(view):
                proposeViews.append(view)
            case let .commit(block):
                let last = nodes[node].commits.last ?? .genesis
                if block.height != last.height + 1 || block.parent != last.hash {
                    violations.append("node \(node) committed height \(block.height) after \(last.height) (gap or fork)")
                }
                if nodes[node].core.highQC.view < block.view + 1 {
                    violations.append("node \(node) committed view \(block.view) with high QC \(nodes[node].core.highQC.view)")
                }
                nodes[node].commits.append(block)
            case let .missingParent(hash, from: sender):
                if let cause { sync(hash, from: sender, to: node, retry: cause) }
            case let .misbehaved(validator, reason):
                nodes[node].misbehaved.append((validator, reason))
            case let .ignored(reason):
                nodes[node].ignored.append(reason)
            }
        }
        let view = nodes[node].core.view
        if view != viewBefore {
            nodes[node].viewEntries.append((view, nodes[node].core.nextDeadlineMs - nowMs))
        }
        if checkTightCommitLatency {
            let core = nodes[node].core
            // A 2-chain ends at the high QC: exactly the block below it is final, never more.
            if core.highQC.view >= 2, core.committed.view + 1 != core.highQC.view {
                violations.append("node \(node): committed view \(core.committed.view) with high QC \(core.highQC.view)")
            }
        }
        for view in proposeViews {
            var injectLater: [Packet] = []
            let transactions = consensusTransactions(view: view, node: node)
            let proposal = nodes[node].core.propose(transactions: transactions, nowMs: nowMs)
            for case let .broadcast(.proposal(block)) in proposal {
                proposedTransactions[block.hash] = transactions
                nodes[node].proposed.append(block)
                if let extra = onPropose?(block) {
                    queue.insert(contentsOf: extra.front, at: 0)
                    injectLater += extra.back
                    for case let .proposal(injected) in (extra.front + extra.back).map(\.message) { observe(injected) }
                }
            }
            apply(proposal, at: node)
            queue.append(contentsOf: injectLater)
            injectLater = []
        }
    }

    /// A vote or timeout must be covered by a `.persist` earlier in the same effect list.
    mutating func checkProtected(_ message: ConsensusCore.Message, node: Int, persistedHere: ConsensusCore.SafetyState?) {
        let view: UInt64
        switch message {
        case let .vote(vote): view = vote.view
        case let .timeout(timeout):
            view = timeout.view
            // A re-sent timeout was protected when it first left.
            if nodes[node].timeoutsSent.contains(where: { $0.view == view }) {
                if (nodes[node].persisted?.highestVotedView ?? 0) < view {
                    violations.append("node \(node) re-sent an unpersisted timeout for view \(view)")
                }
                return
            }
        case .proposal: return
        }
        if (persistedHere?.highestVotedView ?? 0) < view {
            violations.append("node \(node) sent a \(message) for view \(view) without persisting first")
        }
    }

    mutating func record(_ message: ConsensusCore.Message, node: Int) {
        switch message {
        case let .vote(vote):
            nodes[node].votesSent.append(vote)
            voteEvidence[vote.voter.index, default: [:]][vote.view, default: []].insert(vote.blockHash)
        case let .timeout(timeout):
            nodes[node].timeoutsSent.append(timeout)
            nodes[node].timeoutTimesMs.append(nowMs)
        case let .proposal(block):
            observe(block)
        }
    }

    /// The signers of a proposal's QC voted for the QC's block in its view (self-votes are only seen here).
    mutating func observe(_ block: Block) {
        for vote in block.justify.votes {
            voteEvidence[vote.index, default: [:]][block.justify.view, default: []].insert(block.justify.blockHash)
        }
    }

    /// The shell's block sync: fetch the parent from the sender, deliver it, then the proposal again.
    mutating func sync(_ hash: Digest32, from sender: Int, to node: Int, retry: Packet) {
        let attempt = "\(node)-\(hash)"
        syncAttempts[attempt, default: 0] += 1
        guard syncAttempts[attempt]! <= 3 else { return }
        let holders = nodes.indices.filter { nodes[$0].keyIndex == sender && !nodes[$0].crashed }
        for holder in holders where !drop(holder, node, retry.message) {
            guard let parent = nodes[holder].core.block(hash) else { continue }
            queue.insert(contentsOf: [
                Packet(fromNode: holder, sender: parent.proposer, to: node, message: .proposal(parent), bypassFilter: true),
                Packet(fromNode: retry.fromNode, sender: retry.sender, to: node, message: retry.message, bypassFilter: true),
            ], at: 0)
            return
        }
    }

    // MARK: Queries

    /// Validators (other than `except`) seen voting for two blocks in one view.
    func doubleVotes(except: Set<Int> = []) -> [(validator: Int, view: UInt64)] {
        voteEvidence.flatMap { validator, views in
            views.filter { $0.value.count > 1 && !except.contains(validator) }.map { (validator, $0.key) }
        }
    }

    /// Heights at which two of `among` committed different blocks.
    func conflicts(among: [Int]? = nil) -> [UInt64] {
        var byHeight: [UInt64: Digest32] = [:]
        var heights = Set<UInt64>()
        for node in among ?? Array(nodes.indices) {
            for block in nodes[node].commits {
                if let other = byHeight[block.height], other != block.hash { heights.insert(block.height) }
                byHeight[block.height] = byHeight[block.height] ?? block.hash
            }
        }
        return heights.sorted()
    }

    /// Every pair of nodes agrees on the common prefix of their committed chains.
    func agree(among: [Int]? = nil) -> Bool { conflicts(among: among).isEmpty }
}

/// What the network hands a proposer: two transactions naming the view and the node.
func consensusTransactions(view: UInt64, node: Int) -> [Transaction] {
    [Array("view \(view) node \(node) a".utf8), Array("view \(view) node \(node) b".utf8) + [0, 0xFF]]
        .map(consensusTransaction)
}

extension ConsensusCore.Config {
    static var votesToNextLeader: ConsensusCore.Config {
        var config = ConsensusCore.Config()
        config.voteBroadcastLimit = 0
        return config
    }

    static var votesToAll: ConsensusCore.Config {
        var config = ConsensusCore.Config()
        config.voteBroadcastLimit = ConsensusLimits.maxValidators
        return config
    }
}

/// A client transaction carrying `payload`, signed by a fixed test account.
func consensusTransaction(_ payload: [UInt8]) -> Transaction {
    Transaction.signed(by: consensusClientKey, networkID: .zero, nonce: 0, payload: payload)
}

let consensusClientKey = try! SigningKey(seed: Array(repeating: 7, count: 32))

extension ConsensusNetwork {
    /// Drops messages between the two sides of a partition (nodes in neither side are cut off).
    static func partition(_ sides: [Set<Int>]) -> (_ from: Int?, _ to: Int, _ message: ConsensusCore.Message) -> Bool {
        { from, to, _ in
            guard let from else { return false }
            return !sides.contains { $0.contains(from) && $0.contains(to) }
        }
    }

    /// Drops everything to and from `silent`.
    static func isolating(_ silent: Set<Int>) -> (_ from: Int?, _ to: Int, _ message: ConsensusCore.Message) -> Bool {
        { from, to, _ in silent.contains(to) || from.map(silent.contains) == true }
    }
}
