import Logging
import NIOCore

/// The consensus engine's shell: feeds the replica (core, mempool, application) and carries out
/// its effects within one actor turn, so the safety state is synced before a vote or timeout
/// that depends on it leaves, and no await splits a transition.
extension Node {
    /// Starts the replica's first view (called from `run`).
    func startConsensus() {
        guard let effects = withReplica({ $0.start(nowMs: clock.nowMs) }) else { return }
        warnIfValidatorOnlyFollows()
        applyConsensus(effects)
    }

    /// A validator key the current set runs on another node does not sign here (two nodes
    /// signing for one validator could sign twice in a view): almost surely a misconfiguration.
    /// One the set does not list at all (not yet added, or removed) only follows, too.
    func warnIfValidatorOnlyFollows() {
        guard let replica = consensus else { return }
        if replica.validatorRunsElsewhere {
            logger.warning("validator key run by another node in the current set: following without voting",
                           metadata: ["epoch": "\(replica.epoch)"])
        } else if replica.validatorOutsideSet {
            logger.warning("validator key not in the current validator set: following without voting",
                           metadata: ["epoch": "\(replica.epoch)"])
        }
    }

    /// Runs `body` on the replica in place. (Copying it out of the optional and back would copy
    /// its mempool and caches on every message.)
    func withReplica<Result>(_ body: (inout ConsensusReplica) -> Result) -> Result? {
        guard consensus != nil else { return nil }
        return body(&consensus!)
    }

    /// A client's transaction (local API or tests): admitted to the mempool and gossiped.
    public func submit(_ transaction: Transaction) -> ConsensusReplica.Admission {
        guard let (admission, effects) = withReplica({ $0.submit(transaction, gossip: true, nowMs: clock.nowMs) }) else {
            return .refused(TransactionRefusal(hash: transaction.hash, reason: .notRunning))
        }
        applyConsensus(effects)
        rescheduleTick()  // the first transaction of a gossip batch sets its 5 ms flush
        return admission
    }

    public var consensusStatus: ConsensusStatus? {
        consensus.map { replica in
            ConsensusStatus(epoch: replica.epoch, validators: replica.core.validators.count, view: replica.core.view, committedHeight: replica.core.committed.height,
                            committedHash: replica.core.committed.hash.hex, highQCView: replica.core.highQC.view,
                            mempool: replica.mempool.count, validator: replica.core.myIndex,
                            stateRoot: replica.app.executed.stateRoot.hex,
                            committedTransactions: committedTransactions, snapshotHeight: storedChain.snapshotHeight,
                            storedFromHeight: storedChain.lowestHeight, storedBlockBytes: storedChain.bytes,
                            servedCheckpointHeight: stateSync.served?.height, stateSyncs: stateSync.adopted)
        }
    }

    /// The nonce `sender`'s next transaction should carry: after its committed ones and after
    /// those waiting in our mempool. Nil when this node does not run consensus.
    public func nextNonce(of sender: PublicKey) -> UInt64? {
        consensus.map { max($0.app.nextNonce(of: sender), $0.mempool.nonceAfterPending(of: sender) ?? 0) }
    }

    func receiveConsensus(_ message: ConsensusMessage, from inbound: Inbound, nowMs: UInt64) {
        replyRoute = route(forAnswerTo: message, from: inbound)
        defer { replyRoute = nil }
        guard consensus != nil else {
            // A client that sent its transactions here learns to send them elsewhere.
            if case let .submission(batch) = message {
                reply(.transactionReport(TransactionReport(admitted: 0, refused: batch.map {
                    TransactionRefusal(hash: $0.hash, reason: .notRunning)
                })))
            }
            countDrop(.consensusRefused)
            return
        }
        noteChainHeight(of: message, from: inbound.sender)
        switch message {
        case let .snapshotRequest(request): return serveSnapshot(request)
        case let .snapshotChunk(chunk): return receiveSnapshotChunk(chunk, from: inbound.sender, nowMs: nowMs)
        default: if deferLargeBatch(message, from: inbound.sender) { return }
        }
        guard let effects = withReplica({ $0.receive(message, from: inbound.sender, nowMs: nowMs) }) else {
            countDrop(.consensusRefused)
            return
        }
        // An answer came: the next request to that validator need not wait out the throttle, and
        // an observer that got a full answer asks for more at once.
        if case let .blockResponse(response) = message {
            syncRequestedMs[inbound.sender] = nil
            // …as long as the answers move it forward (a refused one must not make it spin).
            let height = consensus?.core.committed.height ?? 0
            if response.blocks.count == ConsensusLimits.maxSyncBlocks || response.epochProof != nil, height > followedHeight {
                nextFollowMs = nowMs
            }
            followedHeight = height
        }
        applyConsensus(effects)
    }

    /// Where the answer to `message` goes. A client reads its submission's report on the stream
    /// it sent it on. Anything else that came by stream is answered at an address the sender is
    /// known by (the stream's source is its outgoing port, where nothing listens, and nodes do
    /// not read their outgoing streams); by datagram, at the datagram's source.
    /// An empty Submission by datagram is not answered: its 8-byte report would be larger than it.
    func route(forAnswerTo message: ConsensusMessage, from inbound: Inbound) -> ReplyRoute? {
        if case let .submission(batch) = message {
            if streamReplies != nil { return .sameStream }
            return batch.isEmpty ? nil : .address(inbound.source)
        }
        return streamReplies == nil ? .address(inbound.source) : .knownAddresses(inbound.sender)
    }

    /// Answers the message being handled, by its route. A report that goes back as a datagram
    /// loses its texts, so it is never larger than the submission it answers.
    func reply(_ message: ConsensusMessage) {
        switch replyRoute {
        case nil: return
        case .sameStream:
            if let bytes = sealReported(message) { streamReplies?.append(bytes) }
        case let .knownAddresses(key):
            // One address is enough: an answer can be megabytes (a BlockResponse).
            guard let target = addresses(of: [key]).first else { return countDrop(.consensusRefused) }
            sealAndDeliver(message, to: [target])
        case let .address(source):
            var message = message
            if case let .transactionReport(report) = message { message = .transactionReport(report.withoutDetails) }
            sealAndDeliver(message, to: [source])
        }
    }

    func tickConsensus(nowMs: UInt64) {
        guard let effects = withReplica({ $0.tick(nowMs: nowMs) }) else { return }
        applyConsensus(effects)
        followChain(nowMs: nowMs)
        requestSnapshot(nowMs: nowMs)
        flushDelayedConsensus(nowMs: nowMs)
        if let due = gossipDueMs, due <= nowMs { flushGossip() }
    }

    var consensusDeadlineMs: UInt64? {
        guard let replica = consensus else { return nil }
        let follow = replica.core.myIndex == nil ? nextFollowMs : .max
        let snapshot = stateSync.download != nil ? stateSync.nextRequestMs : snapshotDueMs(nowMs: clock.nowMs) ?? .max
        return min(replica.nextDeadlineMs, delayedConsensus.first?.dueMs ?? .max, gossipDueMs ?? .max, follow, snapshot)
    }

    /// Client transactions leave in batches: when `gossipBatch` are waiting, or `gossipDelayMs`
    /// after the first one, whichever comes first (one envelope to sign and check per batch).
    func queueGossip(_ transaction: Transaction) {
        pendingGossip.append(transaction)
        if gossipDueMs == nil { gossipDueMs = clock.nowMs + Self.gossipDelayMs }
        if pendingGossip.count >= Self.gossipBatch { flushGossip() }
    }

    func flushGossip() {
        gossipDueMs = nil
        guard !pendingGossip.isEmpty else { return }
        let batch = pendingGossip
        pendingGossip.removeAll(keepingCapacity: true)
        guard let validators = consensus?.otherValidators else { return }
        sendConsensus(.transactions(batch), to: validators)
    }

    static let gossipBatch = 256
    static let gossipDelayMs: UInt64 = 5

    func applyConsensus(_ effects: [ConsensusReplica.Effect]) {
        reportConsensusCPU()
        defer { maintainBlockStore() }
        for effect in effects {
            switch effect {
            case let .persist(safety):
                // Nothing that depends on this state may leave unless it is durable.
                guard persistSafety(safety) else { return }
            case let .broadcast(message, validators):
                sendConsensus(message, to: validators)
            case let .send(message, validator):
                sendConsensus(message, to: [validator])
            case let .committed(block, execution):
                recordCommit(block, execution)
            case let .epochChanged(change):
                recordEpochChange(change)
            case let .missingBlock(hash, validator):
                requestBlocks(toward: hash, from: validator)
            case let .gossip(transaction):
                queueGossip(transaction)
            case let .respondFromStore(from, through):
                respondFromStore(from: from, through: through)
            case let .respond(message):
                reply(message)
            case let .misbehaved(validator, reason):
                options.observer?(.consensusMisbehaviour(validator: validator, reason: reason))
                logger.notice("validator misbehaved", metadata: ["validator": "\(validator)", "reason": "\(reason)"])
            case let .ignored(reason):
                options.observer?(.consensusIgnored(reason: reason))
                countDrop(.consensusRefused)
            case let .stateRootMismatch(height, ours, theirs, proposer):
                options.observer?(.consensusMisbehaviour(validator: proposer, reason: "state root mismatch at \(height)"))
                logger.critical("state root differs from a proposer's: not voting for its block", metadata: [
                    "height": "\(height)", "ours": "\(ours.hex)", "theirs": "\(theirs.hex)", "proposer": "\(proposer)",
                ])
            case let .checkpointTaken(checkpoint, snapshot):
                storeCheckpoint(checkpoint, snapshot: snapshot)
            case let .checkpointCertified(certificate, next):
                recordCheckpointCertificate(certificate, next: next)
            }
        }
    }

    /// Seals `message` once and sends it to the validators named: as a datagram when it fits,
    /// else as a stream frame. A Byzantine fault may bend this.
    func sendConsensus(_ message: ConsensusMessage, to targets: [PublicKey]) {
        guard let consensusOptions = options.consensus else { return }
        if let fault = consensusOptions.fault, bend(message, targets: targets, fault: fault) { return }
        let addresses = addresses(of: targets)
        guard !addresses.isEmpty else { return }
        guard let bytes = sealAndDeliver(message, to: addresses) else { return }
        rememberForReplay(bytes, message)
    }

    /// Seals `message` once, reports it, and sends it to every address; nil when it could not
    /// be sealed (nothing is sent then).
    @discardableResult
    func sealAndDeliver(_ message: ConsensusMessage, to addresses: [PeerAddress]) -> ByteBuffer? {
        guard let bytes = sealReported(message) else { return nil }
        deliver(bytes, of: message, to: addresses)
        return bytes
    }

    /// Seals `message` and reports it to the observer as sent; nil when it could not be sealed.
    func sealReported(_ message: ConsensusMessage) -> ByteBuffer? {
        guard let bytes = seal(.consensus(message)) else { return nil }
        options.observer?(.consensusSent(message))
        return bytes
    }

    /// Proposals and sync answers always travel as stream frames (they grow with their blocks);
    /// anything else does when its envelope exceeds the datagram limit.
    func deliver(_ bytes: ByteBuffer, of message: ConsensusMessage, to addresses: [PeerAddress]) {
        var viaStream = bytes.readableBytes > Envelope.maxDatagramSize
        switch message {
        case .proposal, .blockResponse, .snapshotChunk: viaStream = true
        default: break
        }
        for address in addresses {
            if viaStream { sendFrame(bytes, to: address) } else { sendSealed(bytes, to: address) }
        }
    }

    func addresses(of validators: [PublicKey]) -> [PeerAddress] {
        guard let directory = options.consensus?.directory else { return [] }
        return validators.flatMap { directory[$0] ?? [] }
    }

    /// Keeps the proof that the epoch ended (synced: peers that missed the end need it), and
    /// says so.
    private func recordEpochChange(_ change: EpochChange) {
        options.observer?(.epochChanged(epoch: change.epoch, lastHeight: change.lastBlock.height,
                                        validators: change.validators.count))
        logger.notice("epoch changed", metadata: [
            "epoch": "\(change.epoch)", "after_height": "\(change.lastBlock.height)",
            "validators": "\(change.validators.count)",
            "this_node": "\(consensus?.core.myIndex.map { "validator \($0)" } ?? "observer")",
        ])
        warnIfValidatorOnlyFollows()
        guard let store, let proof = change.proof else { return }
        var writer = WireWriter()
        proof.encode(into: &writer)
        var batch = StoreBatch()
        batch.put(.consensus, Self.epochProofKey(change.lastBlock.height), writer.bytesWritten)
        do {
            try store.apply(batch)
            try store.sync()
        } catch {
            storeErrors += 1
            logger.warning("epoch proof not saved", metadata: ["height": "\(change.lastBlock.height)", "error": "\(error)"])
        }
    }

    static func heightKey(_ height: UInt64) -> [UInt8] { withUnsafeBytes(of: height.bigEndian, Array.init) }
    static func epochProofKey(_ height: UInt64) -> [UInt8] { Array("epoch-proof:".utf8) + heightKey(height) }

    private func persistSafety(_ safety: ConsensusCore.SafetyState) -> Bool {
        guard let store else { return true }
        var writer = WireWriter()
        writer.u64(safety.highestVotedView)
        writer.u64(safety.lockedView)
        writer.u64(safety.epoch)
        var batch = StoreBatch()
        batch.put(.consensus, Self.safetyKey, writer.bytesWritten)
        // The lock may point at blocks not yet committed: keep them and the highest QC with it.
        if let replica = consensus {
            var qc = WireWriter()
            replica.core.highQC.encode(into: &qc)
            batch.put(.consensus, Self.highQCKey, qc.bytesWritten)
            var branch = WireWriter()
            branch.array(replica.core.uncommittedBranch) { $1.encode(into: &$0) }
            batch.put(.consensus, Self.branchKey, branch.bytesWritten)
        }
        do {
            try store.apply(batch)
            try store.sync()
            return true
        } catch {
            storeErrors += 1
            logger.error("cannot save the consensus safety state; not voting", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Restores the stored snapshot and replays the stored chain above it into a fresh replica
    /// (called once, before `run`); returns what the store holds of the chain.
    static func restoreChain(_ replica: inout ConsensusReplica, from store: any Store, logger: Logger) -> StoredChain {
        var chain: [Block] = []
        var stored = StoredChain()
        var damaged = false
        let snapshot = loadSnapshot(from: store, logger: logger)
        do {
            let summary = try store.summary(.blocks)
            stored.lowestHeight = summary.lowestKey.map(heightOf)
            stored.highestHeight = summary.highestKey.map(heightOf)
            stored.bytes = summary.valueBytes
            // Only the blocks above the snapshot are replayed: read no others.
            for entry in try store.scan(.blocks, from: heightKey((snapshot?.height ?? 0) + 1)) {
                // A damaged entry ends the replay there: later blocks come from peers by sync.
                var reader = WireReader(bytes: entry.value)
                guard !damaged, let block = try? Block.decode(from: &reader) else {
                    damaged = true
                    continue
                }
                chain.append(block)
            }
        } catch {
            logger.error("cannot read stored blocks; syncing from peers", metadata: ["error": "\(error)"])
        }
        stored.snapshotHeight = snapshot?.height ?? 0
        func decode<Value>(_ key: [UInt8], _ read: (inout WireReader) throws(WireError) -> Value) -> Value? {
            guard let bytes = try? store.get(.consensus, key) else { return nil }
            var reader = WireReader(bytes: bytes)
            return try? read(&reader)
        }
        let highQC = decode(highQCKey) { (r: inout WireReader) throws(WireError) in try QuorumCertificate.decode(from: &r) }
        let branch = decode(branchKey) { (r: inout WireReader) throws(WireError) in
            try r.array("branch", limit: ConsensusLimits.maxSyncBlocks) { (b: inout WireReader) throws(WireError) in
                try Block.decode(from: &b)
            }
        } ?? []
        do {
            let replayed = try replica.restore(snapshot: snapshot, committed: chain, branch: branch, highQC: highQC)
            if replica.core.committed.height > 0 {
                logger.info("consensus state restored", metadata: [
                    "snapshot_height": "\(snapshot?.height ?? 0)", "blocks_replayed": "\(replayed)",
                    "height": "\(replica.core.committed.height)", "epoch": "\(replica.epoch)",
                    "state_root": "\(replica.app.executed.stateRoot.hex)",
                ])
            }
        } catch {
            logger.error("stored state snapshot does not restore; syncing from peers", metadata: ["error": "\(error)"])
        }
        return stored
    }

    static func heightOf(_ key: [UInt8]) -> UInt64 { key.reduce(0) { $0 << 8 | UInt64($1) } }

    static func loadSafety(from store: any Store) -> ConsensusCore.SafetyState {
        var safety = ConsensusCore.SafetyState()
        // 16 bytes: written before epochs existed (epoch 0).
        guard let bytes = try? store.get(.consensus, safetyKey), bytes.count == 16 || bytes.count == 24 else { return safety }
        var reader = WireReader(bytes: bytes)
        safety.highestVotedView = (try? reader.u64("voted view")) ?? 0
        safety.lockedView = (try? reader.u64("locked view")) ?? 0
        if bytes.count == 24 { safety.epoch = (try? reader.u64("epoch")) ?? 0 }
        return safety
    }

    private func recordCommit(_ block: Block, _ execution: BlockExecution) {
        if let store {
            // Not synced here: a crash may lose the newest blocks, which peers then send again.
            var writer = WireWriter()
            block.encode(into: &writer)
            var batch = StoreBatch()
            batch.put(.blocks, Self.heightKey(block.height), writer.bytesWritten)
            let overwrites = block.height <= (storedChain.highestHeight ?? 0) && block.height >= (storedChain.lowestHeight ?? .max)
            let replaced = overwrites ? (try? store.get(.blocks, Self.heightKey(block.height)))?.count : nil
            do {
                try store.apply(batch)
                noteStoredBlock(height: block.height, bytes: writer.bytesWritten.count, replaced: replaced)
            } catch {
                storeErrors += 1
                logger.warning("committed block not saved", metadata: ["height": "\(block.height)", "error": "\(error)"])
            }
        }
        options.observer?(.committed(block, stateRoot: execution.stateRoot))
        committedTransactions += UInt64(block.transactions.count)
        eventSink.yield(.blockCommitted(height: block.height, hash: block.hash, transactions: block.transactions.count,
                                        stateRoot: execution.stateRoot))
        metrics.countCommitted(transactions: block.transactions.count)
        logger.debug("block committed", metadata: [
            "height": "\(block.height)", "block": "\(block.hash)", "transactions": "\(block.transactions.count)",
        ])
    }

    /// Signatures the replica made or checked since the last report, for the CPU model.
    private func reportConsensusCPU() {
        guard let cpu = options.cpu, let replica = consensus else { return }
        let checked = replica.signaturesChecked, made = replica.signaturesMade
        for _ in reportedChecks..<checked { cpu(.verify) }
        for _ in reportedSigns..<made { cpu(.sign) }
        reportedChecks = checked
        reportedSigns = made
    }

    static let safetyKey = Array("safety".utf8)
    static let highQCKey = Array("high-qc".utf8)
    static let branchKey = Array("branch".utf8)
}
