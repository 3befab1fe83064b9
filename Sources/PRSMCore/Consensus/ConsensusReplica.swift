import DequeModule

/// One validator's (or observer's) whole consensus state as a pure value: the 2-chain core, the
/// mempool and the application behind the contract. It admits transactions (`checkTx` and the
/// mempool's limits, then the signature, once), fills proposals from the mempool, refuses
/// proposals carrying malformed or badly signed transactions or a state root that contradicts
/// ours, and executes committed blocks in order. The node's actor feeds it and carries out its
/// effects.
public struct ConsensusReplica: Sendable {
    public struct Config: Sendable {
        public var core = ConsensusCore.Config()
        public var mempool = Mempool.Config()
        public var maxBlockTransactions = 2_000
        public var maxBlockBytes = 1_048_576
        /// Transaction hashes whose signatures this node checked (a proposal repeating a
        /// mempool transaction is not verified twice).
        public var verifiedCacheSize = 100_000
        /// State roots remembered for checking the roots later proposals carry.
        public var rootHistory = 1_024
        /// With nothing to propose and nothing waiting to commit, a leader waits this long (or
        /// until a transaction arrives) before proposing an empty block, so an idle network does
        /// not spin. Kept below half the base view timeout so the view does not time out.
        public var emptyBlockDelayMs: UInt64 = 400
        public init() {}
    }

    public enum Effect: Sendable, Equatable {
        /// Store durably (and sync) before carrying out any later effect.
        case persist(ConsensusCore.SafetyState)
        /// To these validators' nodes, by node key (resolved when the effect was made: an
        /// epoch change in the same step must not redirect it).
        case broadcast(ConsensusMessage, to: [PublicKey])
        case send(ConsensusMessage, to: PublicKey)
        /// Final, in height order, executed.
        case committed(Block, BlockExecution)
        /// The block just committed ended its epoch: store the change (its proof answers peers
        /// that sync across it). The replica already runs the next epoch.
        case epochChanged(EpochChange)
        /// Ask this validator's node for the chain up to this block (block sync).
        case missingBlock(Digest32, from: PublicKey)
        /// A client's transaction, admitted here, to pass on to the other validators (the shell
        /// batches these into one envelope).
        case gossip(Transaction)
        /// Answer the peer whose request is being handled (a sync answer, over a stream).
        case respond(ConsensusMessage)
        /// A sync request for committed blocks older than the ones kept in memory: the shell
        /// answers from its store, heights `from` … `through`.
        case respondFromStore(from: UInt64, through: UInt64)
        case misbehaved(validator: Int, String)
        case ignored(String)
        /// A proposer's state root for a height we executed differs from ours: one of us is
        /// not deterministic, or is faulty. Never voted for.
        case stateRootMismatch(height: UInt64, ours: Digest32, theirs: Digest32, proposer: Int)
        /// The state right after a checkpoint height (an encoded `ConsensusSnapshot`): keep it
        /// to offer peers once a quorum certifies it.
        case checkpointTaken(Checkpoint, snapshot: [UInt8])
        /// A quorum signed our checkpoint; `next` is the set after it when it ended an epoch.
        case checkpointCertified(CheckpointCertificate, next: ValidatorSet?)
    }

    public enum Admission: Sendable, Equatable {
        case accepted
        case duplicate
        case refused(TransactionRefusal)
    }

    public let config: Config
    public let networkID: Digest32
    /// Every this many heights (and at each epoch's last block) validators sign a checkpoint of
    /// the state, which nodes that are far behind can then start from (0: only at epoch ends).
    public let checkpointInterval: UInt64
    public private(set) var core: ConsensusCore
    public private(set) var mempool: Mempool
    public private(set) var app: any ConsensusApplication
    private let key: SigningKey?
    /// This node's identity: left out of the audiences it sends to.
    private let nodeKey: PublicKey?
    /// The safety state read at start; each epoch's core takes it if it belongs to that epoch.
    private let storedSafety: ConsensusCore.SafetyState
    private var verified = Set<Digest32>()
    private var verifiedOrder = Deque<Digest32>()
    private var roots: [UInt64: Digest32] = [:]
    /// A proposal held back (nothing to propose): the view and when to propose anyway.
    private var deferredProposal: (view: UInt64, atMs: UInt64)?
    /// Messages of the next epoch that came before ours ended, with their senders.
    private var nextEpochMessages = Deque<(message: ConsensusMessage, sender: PublicKey)>()
    /// How the last epoch ended (during this run): handed to its validators still stuck in it.
    private var lastEpochChange: EpochChange?
    private var nextEpochBytes = 0
    /// Signatures checked outside the core (transactions), for the CPU model.
    public private(set) var transactionSignaturesChecked: UInt64 = 0
    /// Signatures the cores of ended epochs checked and made (the counters only grow).
    private var endedEpochsChecked: UInt64 = 0
    private var endedEpochsMade: UInt64 = 0
    private var checkpoints = CheckpointCollector()
    private var checkpointSignaturesMade: UInt64 = 0

    /// `networkID` and `checkpointInterval` are the genesis's: every validator must share them.
    /// `key` is the validator's consensus key (nil for an observer); `nodeKey` the identity of
    /// the node it runs in (by default the consensus key, as when one key serves both).
    public init(config: Config = Config(), networkID: Digest32,
                checkpointInterval: UInt64 = Genesis.Parameters().checkpointInterval, validators: ValidatorSet,
                key: SigningKey?, nodeKey: PublicKey? = nil, app: any ConsensusApplication,
                safety: ConsensusCore.SafetyState = .init()) {
        self.config = config
        self.networkID = networkID
        self.checkpointInterval = checkpointInterval
        let nodeKey = nodeKey ?? key?.publicKey
        core = ConsensusCore(config: config.core, validators: validators,
                             key: Self.signingKey(key, of: nodeKey, storedEpoch: safety.epoch, for: validators), safety: safety)
        mempool = Mempool(config: config.mempool)
        self.app = app
        self.key = key
        self.nodeKey = nodeKey
        storedSafety = safety
    }

    public var epoch: UInt64 { core.validators.epoch }

    /// The validator key this node signs with in `set`'s epoch, if any.
    func signingKey(for set: ValidatorSet) -> SigningKey? {
        Self.signingKey(key, of: nodeKey, storedEpoch: storedSafety.epoch, for: set)
    }

    /// None for an epoch older than the one the stored safety state belongs to: the node voted
    /// in a later epoch, so this one is over for it; after a restart that could not replay that
    /// far it only follows until it gets there (signing here could overwrite the later epoch's
    /// safety state and, after another crash, vote twice). None either when the set runs this
    /// validator on another node: two nodes signing for one validator could sign twice in a view.
    static func signingKey(_ key: SigningKey?, of nodeKey: PublicKey?, storedEpoch: UInt64, for set: ValidatorSet) -> SigningKey? {
        guard let key, set.epoch >= storedEpoch, !runsElsewhere(key.publicKey, than: nodeKey, in: set) else { return nil }
        return key
    }

    /// Whether `set` lists the validator `key` as run by a node other than `nodeKey`.
    static func runsElsewhere(_ key: PublicKey, than nodeKey: PublicKey?, in set: ValidatorSet) -> Bool {
        guard let index = set.index(of: key) else { return false }
        return set.nodeKeys[index] != nodeKey
    }

    /// The validator key is in the current set but the set runs it on another node: this node
    /// only follows (the shell says so, since it is almost certainly a misconfiguration).
    public var validatorRunsElsewhere: Bool {
        key.map { Self.runsElsewhere($0.publicKey, than: nodeKey, in: core.validators) } ?? false
    }

    /// The node holds a validator key the current set does not list (not yet added, or removed):
    /// it only follows.
    public var validatorOutsideSet: Bool {
        key.map { core.validators.index(of: $0.publicKey) == nil } ?? false
    }

    /// The nodes of the current validators other than this one: where its messages go.
    public var otherValidators: [PublicKey] { Self.others(core.validators.nodeKeys, than: nodeKey) }

    static func others(_ keys: [PublicKey], than me: PublicKey?) -> [PublicKey] {
        var seen = Set<PublicKey>()
        return keys.filter { $0 != me && seen.insert($0).inserted }
    }

    public var signaturesChecked: UInt64 {
        core.signaturesChecked + endedEpochsChecked + transactionSignaturesChecked + checkpoints.signaturesChecked
    }
    public var signaturesMade: UInt64 { core.signaturesMade + endedEpochsMade + checkpointSignaturesMade }

    public mutating func start(nowMs: UInt64) -> [Effect] { lift(core.start(nowMs: nowMs), nowMs: nowMs) }

    /// The state at the committed height, to keep instead of the blocks below it.
    public func snapshot() -> ConsensusSnapshot {
        ConsensusSnapshot(block: core.committed, validators: core.validators, epochAnchor: core.anchor,
                          application: app.snapshot())
    }

    /// After a restart: takes the stored snapshot, if any, then re-executes the stored committed
    /// chain above it (in order) and hands the core its tail, the uncommitted branch and the
    /// highest QC. Returns how many blocks were replayed; stops at the first gap (the rest is
    /// synced from peers). Throws, changing nothing, when the snapshot does not decode.
    public mutating func restore(snapshot: ConsensusSnapshot? = nil, committed chain: [Block], branch: [Block],
                                 highQC: QuorumCertificate?) throws(WireError) -> Int {
        var last = Block.genesis
        if let snapshot {
            var restored = app
            try restored.restore(fromSnapshot: snapshot.application)
            guard restored.executed.height == snapshot.block.height else {
                throw .nonCanonical("snapshot state is at height \(restored.executed.height), its block at \(snapshot.block.height)")
            }
            app = restored
            // Restored at start-up, before any transaction came: the pool is empty.
            mempool = Mempool(config: config.mempool, height: snapshot.block.height)
            core = ConsensusCore(config: config.core, validators: snapshot.validators,
                                 key: signingKey(for: snapshot.validators), safety: storedSafety,
                                 anchor: snapshot.epochAnchor)
            last = snapshot.block
        }
        var tail = [last]
        var replayed = 0
        for block in chain where block.height > last.height {
            guard block.height == app.executed.height + 1, block.parent == last.hash else { break }
            // Epoch changes happen again as the blocks execute (no view is started here).
            _ = execute(block, nowMs: nil)
            tail.append(block)
            last = block
            replayed += 1
        }
        guard last != .genesis else { return 0 }
        // The current epoch's core holds its anchor and what follows it.
        let anchorHeight = core.committed.height
        tail = Array(tail.suffix(config.core.retainedBlocks).filter { $0.height >= anchorHeight })
        let connected = branch.first?.parent == tail.last?.hash && branch.allSatisfy({ $0.epoch == epoch }) ? branch : []
        core.restore(committedTail: tail, branch: connected, highQC: highQC)
        return replayed
    }

    public mutating func tick(nowMs: UInt64) -> [Effect] {
        var effects = lift(core.tick(nowMs: nowMs), nowMs: nowMs)
        if let deferred = deferredProposal, nowMs >= deferred.atMs { effects += proposeDeferred(nowMs: nowMs, force: true) }
        return effects
    }

    public var nextDeadlineMs: UInt64 { min(core.nextDeadlineMs, deferredProposal?.atMs ?? .max) }

    /// A transaction from a client (or gossiped by a peer): checked once, admitted, and
    /// gossiped to the validators when it came from a client. The cheap refusals (duplicate,
    /// state, room in the mempool) come before the signature check, so an overloaded node does
    /// not spend its CPU verifying transactions it then turns away.
    public mutating func submit(_ transaction: Transaction, gossip: Bool, nowMs: UInt64) -> (Admission, [Effect]) {
        // The codec refuses larger payloads: one admitted here (a caller in this process) would
        // make every proposal carrying it undecodable by the others.
        guard transaction.payload.count <= Transaction.maxPayload else {
            let detail = "payload of \(transaction.payload.count) bytes is over \(Transaction.maxPayload)"
            return (.refused(TransactionRefusal(hash: transaction.hash, reason: .rejected, detail: detail)), [])
        }
        if mempool.contains(transaction.hash) { return (.duplicate, []) }
        let next: UInt64
        switch app.checkTx(transaction) {
        case let .reject(reason): return (.refused(TransactionRefusal(hash: transaction.hash, reason: .rejected, detail: reason)), [])
        case let .accept(nextNonce): next = nextNonce
        }
        if let refusal = mempool.refusal(of: transaction, nextNonce: next) {
            return (.refused(TransactionRefusal(hash: transaction.hash, reason: refusal.reason)), [])
        }
        guard checkSignature(transaction) else {
            return (.refused(TransactionRefusal(hash: transaction.hash, reason: .badSignature)), [])
        }
        switch mempool.add(transaction, nextNonce: next) {
        case .added:
            // A leader holding back an empty proposal now has something to propose.
            let proposal = proposeDeferred(nowMs: nowMs, force: true)
            return (.accepted, (gossip ? [.gossip(transaction)] : []) + proposal)
        case .duplicate: return (.duplicate, [])
        case let .refused(refusal): return (.refused(TransactionRefusal(hash: transaction.hash, reason: refusal.reason)), [])
        }
    }

    /// What became of a batch of transactions: how many are pending, and why the rest were refused.
    public struct BatchTally: Sendable, Equatable {
        public var admitted: UInt32 = 0
        public var refused: [TransactionRefusal] = []
        public init() {}
        public var report: TransactionReport { TransactionReport(admitted: admitted, refused: refused) }
    }

    /// Submits each of `transactions` (a batch, or one slice of it) and adds the outcomes to `tally`.
    public mutating func submit(_ transactions: some Sequence<Transaction>, gossip: Bool, nowMs: UInt64,
                                tally: inout BatchTally) -> [Effect] {
        var effects: [Effect] = []
        for transaction in transactions {
            let (admission, more) = submit(transaction, gossip: gossip, nowMs: nowMs)
            effects += more
            switch admission {
            case .accepted, .duplicate: tally.admitted += 1
            case let .refused(refusal): tally.refused.append(refusal)
            }
        }
        return effects
    }

    /// A client's submission: each transaction is admitted and passed on as if submitted here,
    /// and the answer reports what was admitted and what was refused and why (so the client
    /// can resubmit what met a full pool, and knows what it must fix).
    mutating func receiveSubmission(_ transactions: [Transaction], nowMs: UInt64) -> [Effect] {
        var tally = BatchTally()
        let effects = submit(transactions, gossip: true, nowMs: nowMs, tally: &tally)
        // The answer first: a later effect (a vote whose safety state fails to persist) may
        // stop the rest from being carried out, and the client must still hear back.
        return [.respond(.transactionReport(tally.report))] + effects
    }

    /// A consensus message from the node whose identity is `senderKey`. From a node that runs
    /// no validator of this epoch only transactions, sync requests and sync answers that prove
    /// themselves are taken; messages of the next epoch wait until we get there.
    public mutating func receive(_ message: ConsensusMessage, from senderKey: PublicKey, nowMs: UInt64) -> [Effect] {
        let sender = core.validators.index(ofNode: senderKey)
        if let ahead = message.epoch, ahead > epoch { return heldForNextEpoch(message, ahead: ahead, from: senderKey) }
        switch message {
        case let .transactions(transactions):
            // From a validator: already gossiped. From anyone else (an observer passing on its
            // clients' transactions): passed on.
            return transactions.flatMap { submit($0, gossip: sender == nil, nowMs: nowMs).1 }
        case let .submission(transactions):
            return receiveSubmission(transactions, nowMs: nowMs)
        case let .proposal(block):
            guard let sender else { return [.ignored("proposal from a non-validator")] }
            if let refusal = refusal(of: block, from: sender) { return [refusal] }
            return lift(core.receive(.proposal(block), from: sender, nowMs: nowMs), nowMs: nowMs)
        case let .vote(vote):
            guard let sender else { return [.ignored("vote from a non-validator")] }
            return lift(core.receive(.vote(vote), from: sender, nowMs: nowMs), nowMs: nowMs)
        case let .timeout(timeout):
            // A validator still timing out in the epoch that ended (it missed the proof, or was
            // removed and heard nothing since): hand it the proof.
            if timeout.epoch < epoch, epoch - timeout.epoch == 1, let change = lastEpochChange, let proof = change.proof {
                return [.respond(.blockResponse(BlockResponse(blocks: [change.lastBlock], epochProof: proof)))]
            }
            // Two or more epochs behind, no proof we hold can be checked by the validators it
            // knows: tell it our height (as a pruned answer), which sends it to state sync.
            if timeout.epoch + 1 < epoch {
                return [.respond(.blockResponse(BlockResponse(prunedAtHeight: core.committed.height)))]
            }
            guard let sender else { return [.ignored("timeout from a non-validator")] }
            return lift(core.receive(.timeout(timeout), from: sender, nowMs: nowMs), nowMs: nowMs)
        case let .blockRequest(request):
            // An observer following the chain names no block: it gets the branch of our high QC
            // (uncommitted blocks included, so it can see the committed ones final).
            let target = request.target == .zero ? core.highQC.blockHash : request.target
            let blocks = core.blocksForSync(toward: target, above: request.knownHeight,
                                            maxBlocks: ConsensusLimits.maxSyncBlocks, maxBytes: ConsensusLimits.maxSyncBytes)
            if !blocks.isEmpty { return [.respond(.blockResponse(BlockResponse(blocks: blocks)))] }
            // Below what memory holds, the committed chain is on disk (heights are the chain).
            if request.knownHeight < core.committed.height {
                let through = min(core.committed.height, request.knownHeight + UInt64(ConsensusLimits.maxSyncBlocks))
                return [.respondFromStore(from: request.knownHeight + 1, through: through)]
            }
            return [.ignored("sync request for a chain we do not hold")]
        case let .blockResponse(response):
            // The proof broadcast when an epoch we already left ended: nothing new in it.
            if let last = response.epochProof?.blocks.last, last.epoch < epoch { return [] }
            guard let sender else { return [.ignored("sync answer from a non-validator")] }
            for block in response.blocks + (response.epochProof?.blocks ?? []) {
                if let refusal = refusal(of: block, from: sender) { return [refusal] }
            }
            let before = epoch
            var effects = lift(core.receiveSynced(response.blocks, from: sender, nowMs: nowMs), nowMs: nowMs)
            // Only a proof for this epoch can be checked (a later one needs the set it names).
            if let proof = response.epochProof, epoch == before, proof.blocks.last?.epoch == epoch {
                effects += lift(core.receiveEpochProof(proof, from: sender, nowMs: nowMs), nowMs: nowMs)
            }
            return effects
        case let .checkpointVote(vote):
            let (certificate, refusal) = checkpoints.receive(vote, from: senderKey)
            if let refusal { return [.ignored(refusal)] }
            return certificate.map { [.checkpointCertified($0.0, next: $0.next)] } ?? []
        case .snapshotRequest, .snapshotChunk:
            // State sync is the shell's: it holds the stored snapshots.
            return [.ignored("state sync message handed to the replica")]
        case .transactionReport:
            // Nodes send no submissions, so they expect no reports.
            return [.ignored("transaction report")]
        }
    }

    // MARK: epochs

    /// A message of a later epoch: the others ended ours and we have not seen it end yet. Those
    /// of the very next epoch wait (bounded) to be replayed once we have; a proposal or timeout
    /// from a validator we know also tells us where to fetch the chain that ended ours.
    mutating func heldForNextEpoch(_ message: ConsensusMessage, ahead: UInt64, from senderKey: PublicKey) -> [Effect] {
        // Bounded per sender and in bytes, so no peer can crowd out the others or hold much memory.
        if ahead == epoch + 1, nextEpochMessages.count(where: { $0.sender == senderKey }) < Self.maxNextEpochMessagesPerSender {
            let size = Self.heldSize(message)
            while !nextEpochMessages.isEmpty,
                  nextEpochMessages.count >= Self.maxNextEpochMessages || nextEpochBytes + size > Self.maxNextEpochBytes {
                nextEpochBytes -= Self.heldSize(nextEpochMessages.removeFirst().message)
            }
            if size <= Self.maxNextEpochBytes {
                nextEpochMessages.append((message, senderKey))
                nextEpochBytes += size
            }
        }
        guard core.validators.index(ofNode: senderKey) != nil else { return [] }
        switch message {
        case let .proposal(block): return [.missingBlock(block.parent, from: senderKey)]
        case let .timeout(timeout): return [.missingBlock(timeout.highQC.blockHash, from: senderKey)]
        default: return []
        }
    }

    static let maxNextEpochMessages = 256
    static let maxNextEpochMessagesPerSender = 16
    static let maxNextEpochBytes = 16 << 20

    static func heldSize(_ message: ConsensusMessage) -> Int {
        if case let .proposal(block) = message { return block.encodedSize }
        return 512
    }

    /// After an epoch change: the held messages of the epoch just begun.
    mutating func replayHeldMessages(nowMs: UInt64) -> [Effect] {
        let held = nextEpochMessages.filter { $0.message.epoch == epoch }
        nextEpochMessages.removeAll()
        nextEpochBytes = 0
        return held.flatMap { receive($0.message, from: $0.sender, nowMs: nowMs) }
    }

    // MARK: proposals

    /// Why a proposal must not reach the core, if it must not.
    mutating func refusal(of block: Block, from sender: Int) -> Effect? {
        guard block.transactions.count <= config.maxBlockTransactions else {
            return .misbehaved(validator: sender, "proposal with \(block.transactions.count) transactions")
        }
        let bytes = block.transactions.reduce(0) { $0 + $1.encodedSize }
        guard bytes <= config.maxBlockBytes else {
            return .misbehaved(validator: sender, "proposal of \(bytes) transaction bytes")
        }
        var seen = Set<Digest32>()
        for transaction in block.transactions {
            guard seen.insert(transaction.hash).inserted else {
                return .misbehaved(validator: sender, "proposal repeats transaction \(transaction.hash)")
            }
            guard checkSignature(transaction) else {
                return .misbehaved(validator: sender, "proposal carries a badly signed transaction")
            }
        }
        if block.executedHeight > 0, let ours = roots[block.executedHeight], ours != block.stateRoot {
            return .stateRootMismatch(height: block.executedHeight, ours: ours, theirs: block.stateRoot, proposer: sender)
        }
        return nil
    }

    mutating func checkSignature(_ transaction: Transaction) -> Bool {
        if verified.contains(transaction.hash) || mempool.contains(transaction.hash) { return true }
        transactionSignaturesChecked += 1
        guard transaction.isValidSignature(networkID: networkID) else { return false }
        verified.insert(transaction.hash)
        verifiedOrder.append(transaction.hash)
        if verifiedOrder.count > config.verifiedCacheSize, let oldest = verifiedOrder.popFirst() {
            verified.remove(oldest)
        }
        return true
    }

    /// Transactions already in blocks above the committed one on our highest certified branch:
    /// a new proposal must not repeat them.
    func pendingTransactions() -> Set<Digest32> {
        var pending = Set<Digest32>()
        var cursor = core.block(core.highQC.blockHash)
        while let block = cursor, block.height > core.committed.height {
            for transaction in block.transactions { pending.insert(transaction.hash) }
            cursor = core.block(block.parent)
        }
        return pending
    }

    // MARK: core effects

    /// Maps the core's effects to ours, proposing when asked and executing commits. When a
    /// commit ends the epoch, the ending core's remaining effects are void.
    mutating func lift(_ effects: [ConsensusCore.Effect], nowMs: UInt64) -> [Effect] {
        let epoch = self.epoch
        let nodes = core.validators.nodeKeys
        var out: [Effect] = []
        for effect in effects {
            guard self.epoch == epoch else { break }
            switch effect {
            case let .persist(safety): out.append(.persist(safety))
            case let .broadcast(message): out.append(.broadcast(Self.wire(message), to: otherValidators))
            case let .send(message, to): out.append(.send(Self.wire(message), to: nodes[to]))
            case let .proposeNow(view):
                deferredProposal = (view, nowMs + config.emptyBlockDelayMs)
                out += proposeDeferred(nowMs: nowMs, force: false)
            case let .commit(block): out += execute(block, nowMs: nowMs)
            case let .missingParent(hash, from): out.append(.missingBlock(hash, from: nodes[from]))
            case let .misbehaved(validator, reason): out.append(.misbehaved(validator: validator, reason))
            case let .ignored(reason): out.append(.ignored(reason))
            }
        }
        return out
    }

    /// Proposes for the deferred view if it is still ours: at once when there are transactions
    /// to propose or blocks above the committed one still carrying some (the pipeline must run
    /// on to commit them); an empty block otherwise only when `force`d (the delay passed).
    mutating func proposeDeferred(nowMs: UInt64, force: Bool) -> [Effect] {
        guard let deferred = deferredProposal else { return [] }
        guard deferred.view == core.view else {
            deferredProposal = nil
            return []
        }
        let pending = pendingTransactions()
        let batch = mempool.reap(maxCount: config.maxBlockTransactions, maxBytes: config.maxBlockBytes, excluding: pending)
        guard force || !batch.isEmpty || !pending.isEmpty || config.emptyBlockDelayMs == 0 else { return [] }
        deferredProposal = nil
        return lift(core.propose(transactions: batch, executedHeight: app.executed.height,
                                 stateRoot: app.executed.stateRoot, nowMs: nowMs), nowMs: nowMs)
    }

    /// Executes a committed block; if it names a new validator set, the epoch ends with it.
    /// `nowMs` is nil while replaying stored blocks (the next epoch's first view starts later).
    mutating func execute(_ block: Block, nowMs: UInt64?) -> [Effect] {
        let execution = app.executeBlock(block)
        roots[block.height] = execution.stateRoot
        if block.height > UInt64(config.rootHistory) { roots[block.height - UInt64(config.rootHistory)] = nil }
        let app = self.app
        mempool.removeCommitted(block.transactions, height: block.height) { app.nextNonce(of: $0) }
        self.app.commit(height: block.height)
        let committing = core.validators
        var out: [Effect] = [.committed(block, execution)]
        if let next = execution.nextValidators { out += beginEpoch(after: block, validators: next, nowMs: nowMs) }
        let endedEpoch = epoch != committing.epoch
        // Not while replaying stored blocks after a restart: those checkpoints were taken then.
        if nowMs != nil, checkpointInterval > 0, endedEpoch || block.height % checkpointInterval == 0 {
            out += checkpoint(block, signedBy: committing, endedEpoch: endedEpoch)
        }
        return out
    }

    /// Ends the epoch at `last`: a new core for the next validators, anchored on it. Blocks the
    /// ending epoch certified above `last` are dropped, never committed (their transactions are
    /// still in the mempool and are proposed again). The proof goes to the ending and the new
    /// validators, so those still in the ending epoch need not wait to find out by timeouts.
    mutating func beginEpoch(after last: Block, validators next: [Genesis.Validator], nowMs: UInt64?) -> [Effect] {
        guard !next.isEmpty, next.count <= ConsensusLimits.maxValidators else {
            return [.ignored("the application named an unusable validator set (\(next.count) validators)")]
        }
        let ending = core.validators
        let proof = core.commitProof(of: last)
        let validators = ValidatorSet(epoch: ending.epoch + 1, validators: next)
        endedEpochsChecked += core.signaturesChecked
        endedEpochsMade += core.signaturesMade
        core = ConsensusCore(config: config.core, validators: validators, key: signingKey(for: validators),
                             safety: storedSafety, anchor: last)
        let change = EpochChange(validators: validators, lastBlock: last, proof: proof)
        lastEpochChange = change
        deferredProposal = nil
        var out: [Effect] = [.epochChanged(change)]
        if let proof, nowMs != nil {
            let audience = Self.others(ending.nodeKeys + validators.nodeKeys, than: nodeKey)
            out.append(.broadcast(.blockResponse(BlockResponse(blocks: [last], epochProof: proof)), to: audience))
        }
        if let nowMs { out += lift(core.start(nowMs: nowMs), nowMs: nowMs) + replayHeldMessages(nowMs: nowMs) }
        return out
    }

    // MARK: checkpoints

    /// The state right after `block`, hashed, signed if we are one of `committing` (the
    /// validators of the block's epoch), and sent to them (at an epoch's end to the next set
    /// too, which must be able to serve it). Called after the block executed and committed,
    /// and after any epoch change it caused, so the snapshot starts where the next block does.
    mutating func checkpoint(_ block: Block, signedBy committing: ValidatorSet, endedEpoch: Bool) -> [Effect] {
        let signer = signingKey(for: committing).flatMap { key in committing.index(of: key.publicKey).map { (key, $0) } }
        // A node that does not sign hears no votes except at an epoch's end: nothing to certify.
        guard signer != nil || endedEpoch else { return [] }
        let snapshot = ConsensusSnapshot(block: block, validators: core.validators, epochAnchor: core.anchor,
                                         application: app.snapshot()).encode()
        let checkpoint = Checkpoint(epoch: committing.epoch, height: block.height, blockHash: block.hash,
                                    snapshotHash: Blake2b.hash256(snapshot), snapshotSize: UInt64(snapshot.count),
                                    validatorsHash: core.validators.digest)
        var own: SignedBy?
        if let (key, index) = signer {
            own = SignedBy(index: index, signature: key.sign(checkpoint.signingBytes))
            checkpointSignaturesMade += 1
        }
        var out: [Effect] = [.checkpointTaken(checkpoint, snapshot: snapshot)]
        if let own {
            let audience = Self.others(committing.nodeKeys + (endedEpoch ? core.validators.nodeKeys : []), than: nodeKey)
            out.append(.broadcast(.checkpointVote(CheckpointVote(checkpoint: checkpoint, voter: own)), to: audience))
        }
        if let formed = checkpoints.add(checkpoint, validators: committing, next: endedEpoch ? core.validators : nil, own: own) {
            out.append(.checkpointCertified(formed.0, next: formed.next))
        }
        return out
    }

    /// Starts over from a peer's snapshot the shell has verified against a checkpoint
    /// certificate: the application state, the epoch (its validators and anchor) and the
    /// committed block; the blocks above it come by the ordinary sync. Throws, changing
    /// nothing, when the state does not restore to the snapshot's height.
    public mutating func adopt(_ snapshot: ConsensusSnapshot, nowMs: UInt64) throws(WireError) -> [Effect] {
        var restored = app
        try restored.restore(fromSnapshot: snapshot.application)
        guard restored.executed.height == snapshot.block.height else {
            throw .nonCanonical("snapshot state is at height \(restored.executed.height), its block at \(snapshot.block.height)")
        }
        app = restored
        roots = [snapshot.height: restored.executed.stateRoot]
        // The views we voted in stay voted: the running core's safety state (newer than the one
        // read at start) carries over if the snapshot is in its epoch.
        let safety = core.safety.epoch >= storedSafety.epoch ? core.safety : storedSafety
        endedEpochsChecked += core.signaturesChecked
        endedEpochsMade += core.signaturesMade
        core = ConsensusCore(config: config.core, validators: snapshot.validators,
                             key: signingKey(for: snapshot.validators), safety: safety, anchor: snapshot.epochAnchor)
        core.restore(committedTail: [snapshot.block], branch: [], highQC: nil)
        // Pending transactions may be stale against the new state: clients resubmit.
        mempool = Mempool(config: config.mempool, height: snapshot.block.height)
        deferredProposal = nil
        lastEpochChange = nil
        return lift(core.start(nowMs: nowMs), nowMs: nowMs) + replayHeldMessages(nowMs: nowMs)
    }

    static func wire(_ message: ConsensusCore.Message) -> ConsensusMessage {
        switch message {
        case let .proposal(block): return .proposal(block)
        case let .vote(vote): return .vote(vote)
        case let .timeout(timeout): return .timeout(timeout)
        }
    }
}
