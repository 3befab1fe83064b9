import Logging

/// The DHT half of the node shell: caller operations (put, get, find-node) that await their
/// result, and carrying out the DHT core's effects.
extension Node {
    /// Stores `value` at the nodes closest to its key (BLAKE2b-256 of the value).
    public func dhtPut(_ value: [UInt8]) async -> DHTResult {
        await operation { dht.put(value, operation: $0, nowMs: $1) }
    }

    /// Finds the value stored under `key`.
    public func dhtGet(_ key: Digest32) async -> DHTResult {
        await operation { dht.get(key, operation: $0, nowMs: $1) }
    }

    /// Finds the k live nodes closest to `target`.
    public func dhtFindNode(_ target: NodeID) async -> DHTResult {
        await operation { dht.findNode(target, operation: $0, nowMs: $1) }
    }

    public func dhtStatus() -> DHTStatus {
        DHTStatus(joinState: dht.joinState.label, lastJoinError: dht.joinState == .joined ? nil : dht.lastJoinError,
                  mode: dht.serverMode ? "server" : "client", contacts: dht.table.count,
                  records: dht.records.count, recordBytes: dht.records.totalBytes)
    }

    /// The contacts in the routing table (checkers, tests, tooling).
    public var dhtContacts: [Contact] { dht.table.allContacts }
    public var dhtJoinState: JoinState { dht.joinState }
    public func dhtHolds(_ key: Digest32) -> Bool { dht.records.value(for: key, nowMs: clock.nowMs) != nil }

    /// Starts a caller operation and suspends until the core reports it finished. Every
    /// operation ends: lookups end by answers or timeouts, and shutdown fails the rest.
    private func operation(_ start: (UInt64, UInt64) -> [DHTCore.Effect]) async -> DHTResult {
        nextOperation += 1
        let id = nextOperation
        return await withCheckedContinuation { continuation in
            pendingOperations[id] = continuation
            applyDHT(start(id, clock.nowMs))
            rescheduleTick()
        }
    }

    /// Joins through the configured bootstrap peers and the saved address book.
    func startDHT() {
        let saved = peers.knownPeers.map { WireContact(publicKey: $0.key, address: $0.address) }
        applyDHT(dht.join(bootstrap: options.bootstrap, saved: saved, nowMs: clock.nowMs))
    }

    /// Fails operations still waiting when the node stops.
    func failPendingOperations() {
        for (id, continuation) in pendingOperations.sorted(by: { $0.key < $1.key }) {
            continuation.resume(returning: .failed(.stopped, operation: id, kind: .get, target: identity.nodeID.digest,
                                                   nowMs: clock.nowMs))
        }
        pendingOperations.removeAll()
    }

    func applyDHT(_ effects: [DHTCore.Effect]) {
        for effect in effects {
            switch effect {
            case let .send(message, address):
                sendSigned(message, to: address)
            case let .finished(result):
                options.observer?(.dhtFinished(result))
                pendingOperations.removeValue(forKey: result.operation)?.resume(returning: result)
            case let .joined(contacts):
                logger.info("joined the DHT", metadata: ["dht.contacts": "\(contacts)"])
                if nextReachabilityCheckMs == nil, peers.reachability.status != .reachable {
                    nextReachabilityCheckMs = clock.nowMs + options.reachabilityCheckDelayMs
                }
                options.observer?(.dhtJoined(contacts: contacts))
                eventSink.yield(.dhtJoined(contacts: contacts))
            case let .joinFailed(attempt, retryInMs, reason):
                logger.warning("cannot join the DHT; retrying", metadata: [
                    "dht.attempt": "\(attempt)", "dht.retry_in_ms": "\(retryInMs)", "reason": "\(reason)",
                ])
                eventSink.yield(.dhtJoinFailed(attempt: attempt, retryInMs: retryInMs, reason: reason))
            case let .contactAdded(contact):
                options.observer?(.dhtContactAdded(contact.publicKey))
                let known = peers.knows(contact.publicKey, at: contact.address)
                peers.noteContact(contact.publicKey, at: contact.address, nowMs: clock.nowMs)
                // A new contact gets our Hello: roles, listen addresses, and the address it sees us at.
                if !known { apply(peers.startHandshake(to: contact.address, nowMs: clock.nowMs)) }
            case .contactEvicted, .refused:
                break
            case let .ignored(reason):
                countDrop(reason)
            case let .misbehaved(key, detail):
                logger.notice("peer misbehaved", metadata: ["peer.key": "\(key)", "detail": "\(detail)"])
                apply(peers.recordInvalidMessage(from: key, nowMs: clock.nowMs))
            case let .peerAnswered(key):
                peers.recordAnswer(from: key, nowMs: clock.nowMs)
            case let .peerTimedOut(key):
                options.observer?(.dhtPeerTimedOut(key))
                apply(peers.recordTimeout(of: key, nowMs: clock.nowMs))
            }
        }
    }

    /// Asks three contacts to have a third party dial us back (AutoNAT): a node nobody can reach
    /// unsolicited switches the DHT to client mode.
    func checkReachability() {
        nextReachabilityCheckMs = peers.reachability.status == .reachable ? nil : clock.nowMs + options.reachabilityRecheckMs
        let helpers = dht.table.closest(to: identity.nodeID, count: 3).map(\.address)
        guard !helpers.isEmpty else { return }
        let nonces = helpers.map { _ in nextRandom() }
        apply(peers.startReachabilityCheck(via: helpers, nonces: nonces, nowMs: clock.nowMs))
    }
}
