import PRSMWire

/// Chained 2-chain HotStuff (Jolteon / DiemBFT v4) as a pure core: rotating leaders, QCs of more
/// than 2/3 of the power, a pacemaker with signed timeouts and timeout certificates, and the
/// 2-chain commit rule. Inputs carry the current time; outputs are effects. Votes are signed here
/// (Ed25519 is deterministic), after the shell has durably stored the safety state the vote
/// depends on (`.persist` always precedes the `.send` of a vote or timeout).
///
/// Safety (per validator): never vote twice in a view; vote for a block only if its QC is at
/// least as high as the locked view; after a QC for block B, lock on B's own QC view. Commit: a
/// block is final once a QC certifies a child proposed in the very next view (2-chain).
public struct ConsensusCore: Sendable {
    public struct Config: Sendable, Equatable {
        /// First view timeout; doubles per consecutive timeout, up to `maxViewTimeoutMs`.
        public var baseViewTimeoutMs: UInt64 = 1_000
        public var maxViewTimeoutMs: UInt64 = 30_000
        /// Blocks kept below the committed height (for peers that sync); older ones are pruned.
        public var retainedBlocks = 1_000
        /// Views ahead of ours we accept votes and timeouts for (bounds the tables).
        public var maxViewsAhead: UInt64 = 100
        /// While the set has at most this many validators, votes go to every validator, not
        /// only the next leader: each one assembles the QC itself, so a block commits one
        /// message delay sooner (4 instead of 5) at the cost of n² votes per view. Larger sets
        /// (and 0) keep Jolteon's linear pattern, votes to the next leader only.
        public var voteBroadcastLimit = 32
        /// Deliberately unsafe variant (commit on a 1-chain), so tests can show the agreement
        /// checker fails. Never set in a real node.
        public var unsafeOneChainCommit = false
        public init() {}
    }

    /// What must be on disk before a vote or timeout leaves. Views restart in each epoch, so the
    /// state belongs to one.
    public struct SafetyState: Sendable, Equatable {
        public var epoch: UInt64 = 0
        public var highestVotedView: UInt64 = 0
        public var lockedView: UInt64 = 0
        public init(epoch: UInt64 = 0) { self.epoch = epoch }
    }

    public enum Message: Sendable, Equatable {
        case proposal(Block)
        case vote(Vote)
        case timeout(TimeoutVote)
    }

    public enum Effect: Sendable, Equatable {
        /// Store durably (and sync) before carrying out any later effect.
        case persist(SafetyState)
        case broadcast(Message)
        case send(Message, to: Int)
        /// This node leads `view`: call `propose(transactions:nowMs:)`.
        case proposeNow(view: UInt64)
        /// Final, in height order, never two at one height.
        case commit(Block)
        /// A proposal arrived whose parent we do not have: fetch it (block sync).
        case missingParent(Digest32, from: Int)
        /// A message broke the protocol (evidence for the shell): e.g. a second proposal in a view.
        case misbehaved(validator: Int, String)
        /// A message we could not use (stale view, unknown block, bad signature): counted.
        case ignored(String)
    }

    public let config: Config
    public let validators: ValidatorSet
    public let myIndex: Int?
    private let key: SigningKey?
    public private(set) var safety: SafetyState
    public private(set) var view: UInt64 = 0
    public private(set) var highQC: QuorumCertificate
    /// The block the previous epoch ended with (genesis in epoch 0), and the QC naming it.
    public let anchor: Block
    public let rootQC: QuorumCertificate
    /// The TC that let us into the current view, if we entered it by timeout.
    private var enteredByTC: TimeoutCertificate?
    public private(set) var committed: Block
    var blocks: [Digest32: Block]
    /// The QC whose processing last committed blocks: with the blocks below it, the proof that
    /// they are final (`commitProof`).
    var lastCommitCertificate: QuorumCertificate?
    private var proposalsSeen: [UInt64: Digest32] = [:]
    private var votes: [UInt64: [Digest32: [Int: Signature]]] = [:]
    private var timeouts: [UInt64: [Int: TimeoutVote]] = [:]
    private var verifiedQCs = Set<Digest32>()
    /// Parents we reported missing: when they arrive they are stored even after an equivocation.
    var wantedBlocks = Set<Digest32>()
    private var viewDeadlineMs: UInt64 = 0
    private var consecutiveTimeouts = 0
    private var timedOutInView = false
    /// Our timeout for the current view, once sent (re-sent while the view lasts).
    private var myTimeout: TimeoutVote?
    /// Proposals whose parent had not arrived, by that parent's hash (replayed when it does).
    var orphans: [Digest32: (block: Block, sender: Int)] = [:]
    static let maxOrphans = 32
    /// We lead this view but lacked the block our high QC certifies when asked to propose.
    var proposalOwed: UInt64?
    /// Signatures this core checked and made, for the simulator's CPU model.
    public private(set) var signaturesChecked: UInt64 = 0
    public private(set) var signaturesMade: UInt64 = 0

    /// `key` is this node's signing key when it is a validator (nil for an observer). An epoch
    /// starts on `anchor`, the committed block the previous epoch ended with (genesis for epoch
    /// 0); `safety` is used only if it belongs to this epoch.
    public init(config: Config = Config(), validators: ValidatorSet, key: SigningKey?, safety: SafetyState = SafetyState(),
                anchor: Block = .genesis) {
        self.config = config
        self.validators = validators
        self.key = key
        myIndex = key.flatMap { validators.index(of: $0.publicKey) }
        self.safety = safety.epoch == validators.epoch ? safety : SafetyState(epoch: validators.epoch)
        self.anchor = anchor
        committed = anchor
        blocks = [anchor.hash: anchor]
        rootQC = .root(of: anchor.hash)
        highQC = rootQC
    }

    var votesToAll: Bool { validators.count <= config.voteBroadcastLimit }

    /// A block's view as this epoch counts: the anchor, from the epoch before, counts as 0.
    func viewInEpoch(_ block: Block) -> UInt64 { block.epoch == validators.epoch ? block.view : 0 }

    public var blockCount: Int { blocks.count }

    /// Blocks above the committed one on the branch of the highest QC (what a restart needs
    /// besides the committed chain: the lock may point into it).
    public var uncommittedBranch: [Block] {
        var branch: [Block] = []
        var cursor = blocks[highQC.blockHash]
        while let block = cursor, block.height > committed.height {
            branch.append(block)
            cursor = blocks[block.parent]
        }
        return branch.reversed()
    }

    /// After a restart: the committed chain's tail (ascending, ending at the committed block),
    /// the uncommitted branch and the highest QC, as stored. Certificates are checked again.
    public mutating func restore(committedTail: [Block], branch: [Block], highQC stored: QuorumCertificate?) {
        guard let last = committedTail.last else { return }
        for block in committedTail + branch { blocks[block.hash] = block }
        committed = last
        if let stored, stored.view > highQC.view, blocks[stored.blockHash] != nil, verify(stored) { highQC = stored }
        else if let tip = branch.last, verify(tip.justify), tip.justify.view > highQC.view { highQC = tip.justify }
        else if last.epoch == validators.epoch, last.justify.view > highQC.view { highQC = last.justify }
    }
    public func block(_ hash: Digest32) -> Block? { blocks[hash] }

    // MARK: Inputs

    /// Enters view 1 (or the view after the last one we voted in, after a restart).
    public mutating func start(nowMs: UInt64) -> [Effect] {
        enter(view: max(1, safety.highestVotedView + 1), tc: nil, nowMs: nowMs)
    }

    /// As leader of the current view: proposes `transactions` on top of the highest QC, carrying
    /// the state root our application reached at `executedHeight`.
    public mutating func propose(transactions: [Transaction], executedHeight: UInt64 = 0, stateRoot: Digest32 = .zero,
                                 nowMs: UInt64) -> [Effect] {
        guard let me = myIndex, validators.leader(of: view) == me, proposalsSeen[view] == nil else { return [] }
        guard let parent = blocks[highQC.blockHash] else {
            // Votes can overtake the block they certify: propose once it arrives. It may also
            // never come on its own (we restarted, or learnt the QC from a timeout): ask a signer.
            proposalOwed = view
            guard let signer = highQC.votes.map(\.index).first(where: { $0 != me }) else { return [] }
            wantedBlocks.insert(highQC.blockHash)
            return [.missingParent(highQC.blockHash, from: signer)]
        }
        proposalOwed = nil
        let block = Block(epoch: validators.epoch, view: view, height: parent.height + 1, parent: parent.hash,
                          justify: highQC, timeoutCertificate: enteredByTC, proposer: me, executedHeight: executedHeight,
                          stateRoot: stateRoot, transactions: transactions)
        return [.broadcast(.proposal(block))] + receive(.proposal(block), from: me, nowMs: nowMs)
    }

    /// A message signed by validator `sender` (the shell checked the envelope's signature and
    /// mapped its key to an index).
    public mutating func receive(_ message: Message, from sender: Int, nowMs: UInt64) -> [Effect] {
        switch message {
        case let .proposal(block): return receiveProposal(block, from: sender, nowMs: nowMs)
        case let .vote(vote): return receiveVote(vote, from: sender, nowMs: nowMs)
        case let .timeout(timeout): return receiveTimeout(timeout, from: sender, nowMs: nowMs)
        }
    }

    /// The view timer: once the deadline passes, broadcast a timeout for the view; while the view
    /// lasts, re-send that same timeout each time the (doubling) timer fires again, since a timeout
    /// lost to a partition would otherwise leave the view without a TC forever.
    public mutating func tick(nowMs: UInt64) -> [Effect] {
        guard view > 0, nowMs >= viewDeadlineMs else { return [] }
        consecutiveTimeouts += 1
        viewDeadlineMs = nowMs + timeoutLength
        if timedOutInView { return myTimeout.map { [.broadcast(.timeout($0))] } ?? [] }
        return timeOutCurrentView(nowMs: nowMs)
    }

    /// Gives up on the current view: persist, then broadcast a signed timeout.
    mutating func timeOutCurrentView(nowMs: UInt64) -> [Effect] {
        timedOutInView = true
        guard let me = myIndex, let key else { return [] }
        safety.highestVotedView = max(safety.highestVotedView, view)
        let signature = key.sign(TimeoutVote.signingBytes(epoch: validators.epoch, view: view, highQCView: highQC.view))
        signaturesMade += 1
        let timeout = TimeoutVote(epoch: validators.epoch, view: view, highQC: highQC,
                                  voter: SignedBy(index: me, signature: signature), lastTC: enteredByTC)
        myTimeout = timeout
        return [.persist(safety), .broadcast(.timeout(timeout))] + receiveTimeout(timeout, from: me, nowMs: nowMs)
    }

    /// When `tick` next has something to do.
    public var nextDeadlineMs: UInt64 { viewDeadlineMs }

    // MARK: Proposals

    mutating func receiveProposal(_ block: Block, from sender: Int, nowMs: UInt64) -> [Effect] {
        guard block.epoch == validators.epoch else { return [.ignored("proposal for epoch \(block.epoch)")] }
        guard sender == block.proposer, validators.leader(of: block.view) == sender else {
            return [.misbehaved(validator: sender, "proposed view \(block.view) without leading it")]
        }
        // A block we asked for (a certified parent) is taken even if its view already had another
        // proposal: the equivocation is still reported, and the vote rule prevents a second vote.
        let wanted = wantedBlocks.remove(block.hash) != nil
        var effects: [Effect] = []
        if let seen = proposalsSeen[block.view] {
            if seen == block.hash { return [] }
            effects.append(.misbehaved(validator: sender, "two proposals in view \(block.view)"))
            if !wanted { return effects }
        }
        guard block.view + config.maxViewsAhead > view, block.view > viewInEpoch(committed) else {
            return [.ignored("proposal for view \(block.view) outside the window")]
        }
        guard verify(block.justify) else { return [.misbehaved(validator: sender, "invalid QC in proposal")] }
        if let tc = block.timeoutCertificate, !checked(tc) {
            return [.misbehaved(validator: sender, "invalid TC in proposal")]
        }
        guard block.parent == block.justify.blockHash else {
            return [.misbehaved(validator: sender, "proposal's parent is not the block its QC certifies")]
        }
        guard let parent = blocks[block.parent] else {
            if wantedBlocks.count >= 64 { wantedBlocks.removeAll() }
            wantedBlocks.insert(block.parent)
            if orphans.count >= Self.maxOrphans,
               let oldest = orphans.min(by: { ($0.value.block.view, $0.key) < ($1.value.block.view, $1.key) }) {
                orphans[oldest.key] = nil
            }
            orphans[block.parent] = (block, sender)
            return effects + [.missingParent(block.parent, from: sender)]
        }
        guard block.height == parent.height + 1, block.view > viewInEpoch(parent) else {
            return [.misbehaved(validator: sender, "proposal's height or view does not follow its parent")]
        }
        if proposalsSeen[block.view] == nil { proposalsSeen[block.view] = block.hash }
        blocks[block.hash] = block
        effects += process(block.justify, nowMs: nowMs)
        if let tc = block.timeoutCertificate, tc.view >= view { effects += enter(view: tc.view + 1, tc: tc, nowMs: nowMs) }
        effects += voteIfSafe(block, nowMs: nowMs)
        if proposalOwed == view, block.hash == highQC.blockHash {
            proposalOwed = nil
            effects.append(.proposeNow(view: view))
        }
        effects += adoptOrphan(of: block, nowMs: nowMs)
        return effects
    }

    /// A proposal that waited for `parent` is taken now.
    mutating func adoptOrphan(of parent: Block, nowMs: UInt64) -> [Effect] {
        guard let orphan = orphans.removeValue(forKey: parent.hash) else { return [] }
        return receiveProposal(orphan.block, from: orphan.sender, nowMs: nowMs)
    }

    /// Jolteon's voting rule.
    mutating func voteIfSafe(_ block: Block, nowMs: UInt64) -> [Effect] {
        guard let me = myIndex, let key, block.view == view, block.view > safety.highestVotedView,
              block.justify.view >= safety.lockedView else { return [] }
        let extendsQC = block.justify.view + 1 == block.view
        let extendsTC = block.timeoutCertificate.map {
            $0.view + 1 == block.view && block.justify.view >= $0.highestQCView
        } ?? false
        guard extendsQC || extendsTC else { return [] }
        safety.highestVotedView = block.view
        let signature = key.sign(Vote.signingBytes(epoch: validators.epoch, view: block.view, blockHash: block.hash))
        signaturesMade += 1
        let vote = Vote(epoch: validators.epoch, view: block.view, blockHash: block.hash,
                        voter: SignedBy(index: me, signature: signature))
        if votesToAll {
            return [.persist(safety), .broadcast(.vote(vote))] + receiveVote(vote, from: me, nowMs: nowMs)
        }
        let nextLeader = validators.leader(of: block.view + 1)
        if nextLeader == me { return [.persist(safety)] + receiveVote(vote, from: me, nowMs: nowMs) }
        return [.persist(safety), .send(.vote(vote), to: nextLeader)]
    }

    // MARK: Votes and certificates

    mutating func receiveVote(_ vote: Vote, from sender: Int, nowMs: UInt64) -> [Effect] {
        guard vote.epoch == validators.epoch, vote.voter.index == sender,
              votesToAll || myIndex == validators.leader(of: vote.view + 1),
              vote.view + 1 >= view, vote.view < view + config.maxViewsAhead else {
            return [.ignored("vote for view \(vote.view) not ours to collect")]
        }
        guard votes[vote.view]?[vote.blockHash]?[sender] == nil else { return [] }
        if votes[vote.view]?.contains(where: { $0.key != vote.blockHash && $0.value[sender] != nil }) == true {
            return [.misbehaved(validator: sender, "voted for two blocks in view \(vote.view)")]
        }
        // The QC of this view is formed: later votes add nothing, so they are not checked.
        if votes[vote.view]?.values.contains(where: { validators.power(of: $0.keys) >= validators.quorumPower }) == true {
            return []
        }
        let message = Vote.signingBytes(epoch: vote.epoch, view: vote.view, blockHash: vote.blockHash)
        signaturesChecked += 1
        guard validators.keys[sender].isValidSignature(vote.voter.signature, for: message) else {
            return [.ignored("bad vote signature")]
        }
        let before = validators.power(of: votes[vote.view]?[vote.blockHash]?.keys ?? [:].keys)
        votes[vote.view, default: [:]][vote.blockHash, default: [:]][sender] = vote.voter.signature
        let signers = votes[vote.view]![vote.blockHash]!
        // The QC forms once, with the vote that crosses the quorum.
        guard before < validators.quorumPower, validators.power(of: signers.keys) >= validators.quorumPower else {
            return []
        }
        let qc = QuorumCertificate(view: vote.view, blockHash: vote.blockHash,
                                   votes: signers.map { SignedBy(index: $0.key, signature: $0.value) })
        verifiedQCs.insert(qcID(qc))
        return process(qc, nowMs: nowMs)
    }

    mutating func receiveTimeout(_ timeout: TimeoutVote, from sender: Int, nowMs: UInt64) -> [Effect] {
        guard timeout.epoch == validators.epoch, timeout.voter.index == sender else {
            return [.ignored("timeout for epoch \(timeout.epoch)")]
        }
        var effects: [Effect] = []
        // A TC the sender entered its view with pulls us up to that view, if we are behind.
        if let tc = timeout.lastTC, tc.view >= view, tc.view < view + config.maxViewsAhead {
            guard checked(tc) else { return [.misbehaved(validator: sender, "invalid TC in timeout")] }
            effects += enter(view: tc.view + 1, tc: tc, nowMs: nowMs)
        }
        guard timeout.view + 1 >= view, timeout.view < view + config.maxViewsAhead else {
            // A validator still in an older view: hand it our timeout (with our TC) so it can
            // follow, as long as we have one for our current view.
            if timeout.view + 1 < view, sender != myIndex, let mine = myTimeout {
                return effects + [.send(.timeout(mine), to: sender)]
            }
            return effects + [.ignored("timeout for view \(timeout.view)")]
        }
        guard timeouts[timeout.view]?[sender] == nil else { return effects }
        let message = TimeoutVote.signingBytes(epoch: timeout.epoch, view: timeout.view, highQCView: timeout.highQC.view)
        signaturesChecked += 1
        guard validators.keys[sender].isValidSignature(timeout.voter.signature, for: message), verify(timeout.highQC) else {
            return effects + [.ignored("bad timeout")]
        }
        timeouts[timeout.view, default: [:]][sender] = timeout
        effects += process(timeout.highQC, nowMs: nowMs)
        let collected = timeouts[timeout.view]!
        // More than f validators gave up on a later view: at least one honest one did, so join
        // them (Bracha-style amplification). After a partition heals, the sides sit in
        // different views with long back-off timers; this brings them to one view at once.
        // The same holds for our own view: we need not sit out a long back-off timer once more
        // than f others have given up on it.
        if timeout.view >= view, validators.power(of: collected.keys) > validators.faultTolerance {
            effects += enter(view: timeout.view, tc: nil, nowMs: nowMs)
            if !timedOutInView, timeout.view == view { effects += timeOutCurrentView(nowMs: nowMs) }
        }
        guard timeout.view >= view, validators.power(of: collected.keys) >= validators.quorumPower else { return effects }
        let tc = TimeoutCertificate(view: timeout.view, entries: collected.values.map {
            .init(signer: $0.voter, highQCView: $0.highQC.view)
        })
        effects += enter(view: timeout.view + 1, tc: tc, nowMs: nowMs)
        return effects
    }

    /// A verified QC: raise the high QC and the lock, commit what a 2-chain makes final, and
    /// move to the next view.
    mutating func process(_ qc: QuorumCertificate, nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        if qc.view > highQC.view { highQC = qc }
        // The anchor's own QC is from the epoch before: its views mean nothing here.
        if let block = blocks[qc.blockHash], block.epoch == validators.epoch {
            safety.lockedView = max(safety.lockedView, block.justify.view)
            if config.unsafeOneChainCommit {
                effects += commit(upTo: block)
            } else if block.justify.view + 1 == block.view, let parent = blocks[block.parent] {
                let committedNow = commit(upTo: parent)
                if !committedNow.isEmpty { lastCommitCertificate = qc }
                effects += committedNow
            }
        }
        if qc.view >= view {
            consecutiveTimeouts = 0
            effects += enter(view: qc.view + 1, tc: nil, nowMs: nowMs)
        }
        return effects
    }

    /// Commits `block` and its uncommitted ancestors, oldest first.
    mutating func commit(upTo block: Block) -> [Effect] {
        guard block.height > committed.height else { return [] }
        var chain: [Block] = []
        var cursor = block
        while cursor.height > committed.height {
            chain.append(cursor)
            guard let parent = blocks[cursor.parent] else { return [] }
            cursor = parent
        }
        // A different block at the committed height would be a fork: never commit across it.
        guard cursor.hash == committed.hash else { return [.ignored("chain does not extend the committed block")] }
        committed = block
        prune()
        return chain.reversed().map { .commit($0) }
    }

    mutating func enter(view newView: UInt64, tc: TimeoutCertificate?, nowMs: UInt64) -> [Effect] {
        guard newView > view else { return [] }
        view = newView
        enteredByTC = tc
        timedOutInView = false
        myTimeout = nil
        viewDeadlineMs = nowMs + timeoutLength
        votes = votes.filter { $0.key + 1 >= newView }
        timeouts = timeouts.filter { $0.key + 1 >= newView }
        proposalsSeen = proposalsSeen.filter { $0.key + 1 >= newView }
        orphans = orphans.filter { $0.value.block.view + config.maxViewsAhead >= newView }
        guard let me = myIndex, validators.leader(of: newView) == me else { return [] }
        return [.proposeNow(view: newView)]
    }

    var timeoutLength: UInt64 {
        let shift = UInt64(min(consecutiveTimeouts, 30))
        return min(config.maxViewTimeoutMs, config.baseViewTimeoutMs << shift)
    }

    /// Each QC's signatures are checked once. The epoch's root needs none.
    mutating func verify(_ qc: QuorumCertificate) -> Bool {
        if qc == rootQC { return true }
        let id = qcID(qc)
        if verifiedQCs.contains(id) { return true }
        signaturesChecked += UInt64(qc.votes.count)
        guard qc.isValid(for: validators) else { return false }
        if verifiedQCs.count >= 4 * config.retainedBlocks { verifiedQCs.removeAll() }
        verifiedQCs.insert(id)
        return true
    }

    /// A TC's signatures are checked where it arrives (they differ per signer, so no cache).
    mutating func checked(_ tc: TimeoutCertificate) -> Bool {
        signaturesChecked += UInt64(tc.entries.count)
        return tc.isValid(for: validators)
    }

    func qcID(_ qc: QuorumCertificate) -> Digest32 {
        var writer = WireWriter()
        writer.u64(qc.view)
        writer.fixed(qc.blockHash.bytes)
        for vote in qc.votes {
            writer.u32(UInt32(vote.index))
            writer.fixed(vote.signature.bytes)
        }
        return Blake2b.hash256(writer.bytesWritten)
    }

    /// Forgets blocks more than `retainedBlocks` below the committed height and stale
    /// uncommitted branches.
    mutating func prune() {
        guard committed.height > UInt64(config.retainedBlocks) else { return }
        let floor = committed.height - UInt64(config.retainedBlocks)
        blocks = blocks.filter { $0.value.height >= floor || $0.key == Block.genesisHash }
    }
}
