import Logging
import NIOCore

/// A PRSM node: the actor shell around the receive pipeline and the peer core. It feeds
/// inbound datagrams through admission, hands accepted messages to the core and carries out
/// the effects (signed sends, events) synchronously, so no state transition is ever split by
/// an await. Time, randomness and transport are injected.
public actor Node {
    public struct Options: Sendable {
        public var identity: SigningKey
        public var genesis: Genesis
        public var pipeline: ReceivePipeline.Config
        public var peers = PeerCore.Config()
        /// How often pending Pings are checked for timeouts (a timeout is noticed up to this late).
        public var tickMs: UInt64 = 1_000
        /// How often the address book is written and synced (when it changed).
        public var persistEveryMs: UInt64 = 10_000
        /// Sees every admission decision (the simulator's checkers and trace); nil in production.
        public var observer: (@Sendable (NodeObservation) -> Void)?
        /// Told about every signature made or checked (the simulator's CPU cost model).
        public var cpu: (@Sendable (CPUWork) -> Void)?
        public var dht = DHTCore.Config()
        /// Addresses to join the DHT through (the saved address book is used as well).
        public var bootstrap: [PeerAddress] = []
        /// False for tools that only ping: the node then does not join the DHT.
        public var joinDHT = true
        /// The first dial-back check runs this long after joining, once the NAT mappings the join
        /// opened (toward everyone it asked) have had time to close; later checks follow every
        /// `reachabilityRecheckMs` until the node is found reachable.
        public var reachabilityCheckDelayMs: UInt64 = 150_000
        public var reachabilityRecheckMs: UInt64 = 600_000
        /// Runs the consensus engine when set.
        public var consensus: ConsensusOptions?
        /// Peers this node keeps an outbound stream queue for at once.
        public var maxOutboundStreams = 256

        public init(identity: SigningKey, genesis: Genesis) {
            self.identity = identity
            self.genesis = genesis
            pipeline = ReceivePipeline.Config(networkID: genesis.networkID)
        }
    }

    public nonisolated let identity: PublicKey
    public nonisolated let networkID: Digest32
    public nonisolated let events: AsyncStream<NodeEvent>

    let options: Options
    private let executor: any SerialExecutor
    let store: (any Store)?
    private let transport: any DatagramTransport
    let streams: (any StreamTransport)?
    let clock: any NodeClock
    private var random: any RandomNumberGenerator & Sendable
    let metrics: NodeMetrics
    let logger: Logger
    let eventSink: AsyncStream<NodeEvent>.Continuation
    private let startedMs: UInt64

    private var pipeline: ReceivePipeline
    var peers: PeerCore
    var dht: DHTCore
    var pendingOperations: [UInt64: CheckedContinuation<DHTResult, Never>] = [:]
    var nextOperation: UInt64 = 0
    /// When the next dial-back check is due (nil: none planned).
    var nextReachabilityCheckMs: UInt64?
    var consensus: ConsensusReplica?
    var storedChain = StoredChain()
    var stateSync = StateSyncState()
    /// An observer's next request for new blocks, and the validator it asks next.
    var nextFollowMs: UInt64 = 0
    var followedHeight: UInt64 = 0
    var followCursor = 0
    var reportedChecks: UInt64 = 0
    var reportedSigns: UInt64 = 0
    var delayedConsensus: [DelayedConsensusSend] = []
    var pendingGossip: [Transaction] = []
    var committedTransactions: UInt64 = 0
    var gossipDueMs: UInt64?
    /// Where the answer to the consensus message being handled goes.
    var replyRoute: ReplyRoute?
    /// While a stream frame is handled: the answers to send back on that stream, and a large
    /// transaction batch it brought, to be checked in slices.
    var streamReplies: [ByteBuffer]?
    var slicedBatch: SlicedBatch?
    var syncRequestedMs: [PublicKey: UInt64] = [:]
    var syncRequestedTarget: [PublicKey: Digest32] = [:]
    var replayBacklog: [(bytes: ByteBuffer, message: ConsensusMessage)] = []
    var outbound: [PeerAddress: OutboundFrames] = [:]
    var stoppingStreams = false
    nonisolated let streamStarts: AsyncStream<PeerAddress>
    let streamStartsSink: AsyncStream<PeerAddress>.Continuation
    private var counters = DropCounters()
    /// When the sleeping tick loop wakes (nil while it runs), and how a nudge ends its sleep.
    var tickWakeMs: UInt64?
    var tickWaiter: CheckedContinuation<Void, Never>?
    var tickRung = false
    private var sequence = SequenceCounter()
    /// Sequences below this were reserved in the store before use, so a restart (even with the
    /// clock stepped back) never reissues one.
    private var sequenceReserved: UInt64 = 0
    private var persistedChanges: UInt64 = 0
    private var lastPersistMs: UInt64 = 0
    public internal(set) var storeErrors: UInt64 = 0
    static let sequenceKey = Array("sequence-reserved".utf8)
    static let sequenceReservation: UInt64 = 1 << 32  // ~65 s of sending per sync

    public init(
        options: Options, transport: any DatagramTransport, clock: any NodeClock,
        random: any RandomNumberGenerator & Sendable, metrics: NodeMetrics, logger: Logger,
        executor: any SerialExecutor, store: (any Store)? = nil, streams: (any StreamTransport)? = nil
    ) {
        self.options = options
        self.executor = executor
        self.store = store
        self.transport = transport
        self.streams = streams
        self.clock = clock
        var random = random
        let dhtSeed = random.next()
        self.random = random
        self.metrics = metrics
        self.logger = logger
        identity = options.identity.publicKey
        networkID = options.genesis.networkID
        pipeline = ReceivePipeline(config: options.pipeline)
        var peerConfig = options.peers
        peerConfig.networkID = options.genesis.networkID
        if peerConfig.listenAddresses.isEmpty, transport.localAddress.hostBytes.contains(where: { $0 != 0 }) {
            peerConfig.listenAddresses = [transport.localAddress]
        }
        var peers = PeerCore(config: peerConfig)
        if let store {
            do {
                let (saved, floor) = try Self.load(from: store)
                peers.restore(saved)
                sequence = SequenceCounter(floor: floor)
                sequenceReserved = floor
            } catch {
                logger.error("cannot read the node's saved state; starting empty", metadata: ["error": "\(error)"])
            }
        }
        self.peers = peers
        dht = DHTCore(identity: options.identity.publicKey, config: options.dht, seed: dhtSeed,
                      nowMs: clock.nowMs)
        persistedChanges = peers.changes
        startedMs = clock.nowMs
        lastPersistMs = startedMs
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1_024))
        (streamStarts, streamStartsSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        if let consensusOptions = options.consensus {
            let validators = ValidatorSet(epoch: 0, validators: options.genesis.validators)
            var replica = ConsensusReplica(
                config: consensusOptions.replica, networkID: options.genesis.networkID,
                checkpointInterval: options.genesis.parameters.checkpointInterval, validators: validators,
                key: consensusOptions.validatorKey, nodeKey: options.identity.publicKey,
                app: consensusOptions.makeApplication(),
                safety: store.map(Self.loadSafety) ?? .init())
            if let store {
                storedChain = Self.restoreChain(&replica, from: store, logger: logger)
                stateSync.served = Self.loadServedCheckpoint(from: store)
            }
            committedTransactions = 0
            consensus = replica
        }
    }

    /// The node runs on the executor it is given: an event loop's in `prsm-node`, the
    /// simulator's serial executor in PRSMSim.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Serves until the transport's inbound stream ends or the task is cancelled.
    public func run() async {
        logger.info("node running", metadata: [
            "node.id": "\(identity.nodeID.hex)", "network.id": "\(networkID.hex)",
            "listen": "\(transport.localAddress)",
        ])
        if options.joinDHT { startDHT() }
        startConsensus()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tickLoop() }
            if let streams {
                group.addTask { await self.serveStreams(streams) }
                group.addTask { await self.runStreamSenders(streams) }
            }
            // On the socket's own event loop a batch is handled in the read cycle that brought it.
            let inline = await transport.deliverInline(ifOn: executor) { batch in
                self.assumeIsolated { $0.receive(batch) }
            }
            if !inline { await transport.deliver { batch in await self.receive(batch) } }
            stopStreams()
            group.cancelAll()
        }
        persist(force: true)
        failPendingOperations()
        eventSink.finish()
        logger.info("node stopped")
    }

    private func tickLoop() async {
        while !Task.isCancelled {
            await sleepForTick(untilMs: nextWakeMs())
            if Task.isCancelled { return }
            applyDHT(dht.tick(nowMs: clock.nowMs))
            tickConsensus(nowMs: clock.nowMs)
            apply(peers.expire(nowMs: clock.nowMs))
            if let due = nextReachabilityCheckMs, clock.nowMs >= due { checkReachability() }
            if clock.nowMs >= lastPersistMs + options.persistEveryMs { persist(force: false) }
        }
    }

    /// The next tick: at most `tickMs` away, earlier when a DHT request, a consensus view, a
    /// gossip flush, a delayed send or a sync request falls due.
    private func nextWakeMs() -> UInt64 {
        let now = clock.nowMs
        let deadline = min(dht.nextDeadlineMs ?? .max, consensusDeadlineMs ?? .max)
        return min(now + options.tickMs, deadline == .max ? .max : max(deadline, now + 1))
    }

    /// Called when an actor turn from outside (a datagram, a frame, a client call) ends: if it
    /// moved a deadline before the sleeping tick loop's wake, the loop wakes now rather than
    /// honouring the deadline up to `tickMs` late.
    func rescheduleTick() {
        guard let wake = tickWakeMs, nextWakeMs() < wake else { return }
        ringTick()
    }

    /// Admits a batch of datagrams in arrival order (one actor hop for the whole batch).
    public func receive(_ batch: [InboundDatagram]) {
        for datagram in batch { admit(datagram.bytes, from: datagram.source, viaStream: false) }
        rescheduleTick()
    }

    /// Admits one datagram and applies what it causes. Synchronous by design.
    public func receive(_ datagram: InboundDatagram) {
        admit(datagram.bytes, from: datagram.source, viaStream: false)
        rescheduleTick()
    }

    /// Admits one envelope that arrived as a stream frame (only consensus messages travel so)
    /// and returns the answers to send back on that stream. A large batch of transactions is
    /// checked in slices after the frame's synchronous part (`admitInSlices`).
    func receiveFrame(_ bytes: ByteBuffer, from source: PeerAddress) async -> [ByteBuffer] {
        streamReplies = []
        admit(bytes, from: source, viaStream: true)
        var replies = streamReplies ?? []
        streamReplies = nil
        let batch = slicedBatch
        slicedBatch = nil
        rescheduleTick()
        if let batch, let report = await admitInSlices(batch) { replies.append(report) }
        return replies
    }

    private func admit(_ bytes: ByteBuffer, from source: PeerAddress, viaStream: Bool) {
        let now = clock.nowMs
        // A banned address costs one table lookup, before any parsing or signature check.
        if peers.isBanned(address: source, nowMs: now) {
            countDrop(.banned)
            return
        }
        // A value that hashes to the key a get asked for finishes that get before the signature
        // check; late DHT answers (α asked, the first one finished the lookup) skip the check.
        let outcome = pipeline.receive(bytes, from: source, nowMs: now,
                                       maxSize: viaStream ? Envelope.maxFrameSize : nil) { sender, message in
            if !viaStream { self.applyDHT(self.dht.takeSelfCertifyingValue(message, from: sender, nowMs: now)) }
            return self.dht.wantsReply(message, from: sender, nowMs: now)
        }
        if let cpu = options.cpu {
            cpu(.bytes(bytes.readableBytes))
            switch outcome {
            case .accepted, .rejected, .dropped(.badSignature): cpu(.verify)
            case .dropped: break
            }
        }
        switch outcome {
        case let .accepted(inbound) where peers.isBanned(key: inbound.sender, nowMs: now):
            countDrop(.banned)
        case let .accepted(inbound):
            options.observer?(.accepted(sender: inbound.sender, sequence: inbound.envelope.sequence,
                                        timestamp: inbound.envelope.timestamp, kind: inbound.envelope.kind))
            counters.countAccepted()
            metrics.countAccepted()
            switch inbound.message {
            case let .consensus(message):
                receiveConsensus(message, from: inbound, nowMs: now)
            case _ where viaStream:
                countDrop(.unexpected)
            case .dht:
                applyDHT(dht.handle(inbound, nowMs: now))
            case let .pong(pong) where dht.awaitsPong(nonce: pong.nonce):
                applyDHT(dht.handle(inbound, nowMs: now))
            default:
                apply(peers.handle(inbound, nowMs: now))
            }
        case let .dropped(reason):
            countDrop(reason)
            if reason == .rateLimited || reason == .prefixRateLimited {
                apply(peers.recordRateLimited(source: source, nowMs: now))
            }
        case let .rejected(reason, sender):
            countDrop(reason)
            apply(peers.recordInvalidMessage(from: sender, nowMs: now))
            logger.debug("rejected signed message", metadata: ["peer.key": "\(sender)", "reason": "\(reason.rawValue)"])
        }
    }

    /// Pings `address`; the outcome arrives on `events` as `.pingAnswered` or `.pingTimedOut`.
    @discardableResult
    public func ping(_ address: PeerAddress) -> UInt64 {
        let nonce = random.next()
        metrics.countPingSent()
        apply(peers.startPing(to: address, nonce: nonce, nowMs: clock.nowMs))
        return nonce
    }

    public func status() -> NodeStatus {
        let now = clock.nowMs
        return NodeStatus(
            nodeID: identity.nodeID.hex, publicKey: identity.hex, version: NodeVersion.software,
            network: options.genesis.name, networkID: networkID.hex,
            listenAddresses: [transport.localAddress.description],
            // The wall clock can step back (NTP): never underflow.
            uptimeSeconds: now > startedMs ? (now - startedMs) / 1000 : 0, peersKnown: peers.peerCount,
            accepted: counters.accepted, drops: counters.byReason, dht: options.joinDHT ? dhtStatus() : nil,
            consensus: consensusStatus)
    }

    public var dropCounters: DropCounters { counters }
    public var knownPeers: [KnownPeer] { peers.knownPeers }

    // MARK: persistence

    static func load(from store: any Store) throws(StoreError) -> ([KnownPeer], UInt64) {
        var saved: [KnownPeer] = []
        for entry in try store.scan(.peers) {
            // One damaged entry costs that peer, not the book.
            if let peer = try? AddressBookCodec.decode(key: entry.key, value: entry.value) { saved.append(peer) }
        }
        var floor: UInt64 = 0
        if let bytes = try store.get(.node, sequenceKey), bytes.count == 8 {
            floor = bytes.reduce(0) { $0 << 8 | UInt64($1) }
        }
        return (saved, floor)
    }

    /// Writes the address book when it changed (or always, at shutdown) and syncs.
    private func persist(force: Bool) {
        guard let store else { return }
        lastPersistMs = clock.nowMs
        guard force || peers.changes != persistedChanges else { return }
        var batch = StoreBatch()
        batch.clear(.peers)
        for peer in peers.peersToSave {
            let (key, value) = AddressBookCodec.encode(peer)
            batch.put(.peers, key, value)
        }
        do {
            try store.apply(batch)
            try store.sync()
            persistedChanges = peers.changes
        } catch {
            storeErrors += 1
            logger.warning("address book not saved; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Makes sure `sequenceNumber` lies below a reservation that is durable. False when the
    /// store cannot record one: sending then would risk reusing the number after a restart.
    private func reserveSequences(through sequenceNumber: UInt64) -> Bool {
        guard let store, sequenceNumber >= sequenceReserved else { return true }
        let reserved = sequenceNumber &+ Self.sequenceReservation
        var batch = StoreBatch()
        batch.put(.node, Self.sequenceKey, withUnsafeBytes(of: reserved.bigEndian, Array.init))
        do {
            try store.apply(batch)
            try store.sync()
            sequenceReserved = reserved
            return true
        } catch {
            storeErrors += 1
            logger.error("cannot reserve sequence numbers; message not sent", metadata: ["error": "\(error)"])
            return false
        }
    }

    public func tableSizes() -> NodeTableSizes {
        NodeTableSizes(peers: peers.peerCount, outstandingPings: peers.outstandingCount,
                       trackedSources: pipeline.trackedSources, trackedSenders: pipeline.trackedSenders,
                       scoredKeys: peers.scores.trackedKeys, recentContacts: peers.reachability.recentContactCount,
                       dhtContacts: dht.table.count, dhtReplacements: dht.table.replacementCount,
                       dhtOutstanding: dht.outstandingCount, dhtLookups: dht.lookupCount,
                       dhtRecords: dht.records.count, dhtHeldTokens: dht.heldTokenCount,
                       mempool: consensus?.mempool.count ?? 0, outboundFrames: outbound.values.reduce(0) { $0 + $1.frames.count })
    }

    /// Seals `message` with the next sequence number and sends it (nothing is sent when the
    /// sequence reservation cannot be made durable).
    func sendSigned(_ message: Message, to address: PeerAddress) {
        guard let bytes = seal(message) else { return }
        sendSealed(bytes, to: address)
    }

    /// Seals `message` with the next sequence number (nil when the sequence reservation cannot
    /// be made durable: nothing may be sent then).
    func seal(_ message: Message) -> ByteBuffer? {
        let sequenceNumber = sequence.next(nowMs: clock.nowMs)
        guard reserveSequences(through: sequenceNumber) else { return nil }
        options.cpu?(.sign)
        return Envelope.seal(message, networkID: networkID, key: options.identity,
                             sequence: sequenceNumber, timestamp: clock.nowMs)
    }

    /// A sequence number for an envelope sealed outside `seal` (the simulator's garbage fault).
    func nextSequence() -> UInt64 { sequence.next(nowMs: clock.nowMs) }

    func sendSealed(_ bytes: ByteBuffer, to address: PeerAddress) {
        transport.send(bytes, to: address)
        peers.noteSent(to: address, nowMs: clock.nowMs)
    }

    func countDrop(_ reason: DropReason) {
        options.observer?(.dropped(reason))
        counters.countDrop(reason)
        metrics.countDrop(reason)
    }

    func nextRandom() -> UInt64 { random.next() }

    func apply(_ effects: [PeerCore.Effect]) {
        for effect in effects {
            switch effect {
            case let .send(message, address):
                sendSigned(message, to: address)
            case let .pingAnswered(reply):
                metrics.countPingAnswered()
                eventSink.yield(.pingAnswered(reply))
            case let .pingTimedOut(nonce, address):
                eventSink.yield(.pingTimedOut(nonce: nonce, address: address))
            case let .ignored(reason):
                countDrop(reason)
            case let .handshakeCompleted(peer, address, observedAddress):
                logger.debug("handshake completed", metadata: [
                    "peer.key": "\(peer)", "peer.address": "\(address)", "peer.observed": "\(observedAddress)",
                ])
            case let .handshakeRefused(sender, address, reason):
                countDrop(.handshakeRefused)
                logger.notice("handshake refused", metadata: [
                    "peer.key": "\(sender)", "peer.address": "\(address)", "reason": "\(reason.rawValue)",
                ])
            case let .handshakeTimedOut(address):
                logger.debug("handshake timed out", metadata: ["peer.address": "\(address)"])
            case let .evidence(misbehaviour):
                let metadata: Logger.Metadata = [
                    "peer.subject": "\(misbehaviour.subject)", "evidence.kind": "\(misbehaviour.kind.rawValue)",
                    "evidence.detail": "\(misbehaviour.detail)",
                ]
                if misbehaviour.kind == .banned {
                    logger.notice("peer banned", metadata: metadata)
                    options.observer?(.peerBanned(misbehaviour.subject))
                    let until = misbehaviour.atMs &+ peers.config.scores.banDurationMs
                    switch misbehaviour.subject {
                    case let .key(key): applyDHT(dht.forget(key: key, untilMs: until, nowMs: clock.nowMs))
                    case let .ip(host): applyDHT(dht.forget(host: host, untilMs: until, nowMs: clock.nowMs))
                    }
                } else {
                    logger.debug("peer misbehaviour", metadata: metadata)
                }
            case let .reachabilityChanged(status):
                logger.info("reachability changed", metadata: ["reachability": "\(status.rawValue)"])
                // Unreachable nodes use the DHT as clients: they ask, but nobody adds them.
                applyDHT(dht.setServerMode(peers.serverMode, nowMs: clock.nowMs))
            case let .addressConfirmed(address):
                logger.info("public address confirmed", metadata: ["address": "\(address)"])
            }
        }
    }
}
