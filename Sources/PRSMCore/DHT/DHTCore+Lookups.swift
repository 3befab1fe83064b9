import PRSMWire

/// Driving lookups: sending their requests, taking their answers and timeouts, finishing them.
extension DHTCore {
    /// Starts a lookup from the k closest contacts we know; it ends once its `closest` (k unless
    /// given) closest candidates have answered.
    mutating func startLookup(target: NodeID, purpose: DHTPurpose, closest: Int? = nil, nowMs: UInt64) -> [Effect] {
        table.recordLookup(of: target, nowMs: nowMs)
        let seeds = table.closest(to: target, count: config.lookup.k)
        if seeds.isEmpty {
            if case .join = purpose { return joinAttemptFailed(reason: "no seed answered", nowMs: nowMs) }
            guard let (operation, kind) = purpose.operation else { return [] }
            return [.finished(failure(.noContacts, operation: operation, kind: kind, target: target.digest, nowMs: nowMs))]
        }
        var id = random.next()
        while lookups[id] != nil { id = random.next() }
        var lookupConfig = config.lookup
        if let closest { lookupConfig.k = min(closest, lookupConfig.k) }
        lookups[id] = RunningLookup(lookup: Lookup(target: target, seeds: seeds, config: lookupConfig),
                                    purpose: purpose, startedMs: nowMs)
        return advance(id, nowMs: nowMs)
    }

    /// Sends what the lookup wants next, or finishes it.
    mutating func advance(_ id: UInt64, nowMs: UInt64) -> [Effect] {
        guard let finished = lookups[id]?.finishedLookup else { return [] }
        if finished { return finishIfStoresDone(id, nowMs: nowMs) }
        // Mutated in place through the dictionary, so the candidate list is never copied.
        let wanted = lookups[id]!.lookup.nextRequests(nowMs: nowMs)
        let (target, purpose) = (lookups[id]!.lookup.target, lookups[id]!.purpose)
        var effects: [Effect] = []
        for contact in wanted {
            effects.append(request(contact, for: id, target: target, purpose: purpose, nowMs: nowMs))
        }
        if lookups[id]!.lookup.isFinished {
            lookups[id]!.finishedLookup = true
            effects += lookupFinished(id, nowMs: nowMs)
        }
        return effects
    }

    mutating func request(_ contact: Contact, for lookup: UInt64, target: NodeID, purpose: DHTPurpose,
                          nowMs: UInt64) -> Effect {
        let requestID = newRequestID()
        track(requestID, .lookup(lookup, contact.id), address: contact.address, nowMs: nowMs)
        let (header, padding) = header(for: contact.address, id: requestID, nowMs: nowMs)
        if case let .get(_, key) = purpose {
            return .send(.dht(.findValue(FindValue(header: header, key: key, padding: padding))), to: contact.address)
        }
        return .send(.dht(.findNode(FindNode(header: header, target: target, padding: padding))), to: contact.address)
    }

    /// Whether a DHT reply from `sender` deserves its signature check (~90 µs on a small core),
    /// judged before it is proven (so nothing here changes state). A reply that `awaited` does not
    /// match could only be ignored. A late answer to a lookup that has finished only refreshes a
    /// contact, unless the table wants its sender as a candidate. Answers to running lookups,
    /// STOREs and announcements are always checked and used.
    public func wantsReply(_ message: Message, from sender: PublicKey, nowMs: UInt64) -> Bool {
        let requestID: UInt64
        switch message {
        case let .dht(.nodes(reply)): requestID = reply.requestID
        case let .dht(.value(reply)): requestID = reply.requestID
        case let .dht(.stored(reply)): requestID = reply.requestID
        default: return true
        }
        let id = sender.nodeID
        switch awaited(requestID, from: id) {
        case nil: return false
        case let .lookup(lookupID, _)?:
            if let running = lookups[lookupID], !running.finishedLookup { return true }
            return !table.contains(id) && table.wantsCandidate(id, nowMs: nowMs)
        default: return true
        }
    }

    /// What request `requestID` waits for, when a reply to it from `id` is the answer: same
    /// request id, from the key we asked (Pings are answered by Pongs, never by DHT replies).
    func awaited(_ requestID: UInt64, from id: NodeID) -> Waiting? {
        guard let entry = outstanding[requestID] else { return nil }
        switch entry.waiting {
        case let .lookup(_, asked), let .store(_, asked), let .announce(asked):
            return id == asked ? entry.waiting : nil
        case .seedPing, .livenessPing, .requesterPing:
            return nil
        }
    }

    /// Takes the request a verified reply answers (see `awaited`) off the outstanding list.
    mutating func claim(_ requestID: UInt64, _ inbound: Inbound) -> Waiting? {
        guard let waiting = awaited(requestID, from: inbound.sender.nodeID) else { return nil }
        outstanding[requestID] = nil
        return waiting
    }

    mutating func receiveNodes(_ reply: NodesReply, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        let waiting = claim(reply.requestID, inbound)
        if case .announce? = waiting {
            holdToken(reply.token, from: inbound.source, nowMs: nowMs)
            return answered(inbound, nowMs: nowMs)
        }
        guard case let .lookup(lookupID, from)? = waiting else { return [.ignored(.unexpected)] }
        holdToken(reply.token, from: inbound.source, nowMs: nowMs)
        var effects = answered(inbound, nowMs: nowMs)
        guard lookups[lookupID] != nil else { return effects }
        var seen = Set<NodeID>()
        let contacts = reply.contacts.compactMap { wire -> Contact? in
            let contact = Contact(publicKey: wire.publicKey, address: wire.address, lastSeenMs: 0)
            guard contact.id != ownID, !banned.excludes(contact, nowMs: nowMs), seen.insert(contact.id).inserted else {
                return nil
            }
            return contact
        }
        lookups[lookupID]!.lookup.recordAnswer(from: from, contacts: contacts)
        effects += brokenVariantEffects(contacts, inbound, token: reply.token, nowMs: nowMs)
        // The lookup's next requests (or its result) go out before the table's own sends (a
        // liveness Ping, a newcomer's Hello): each is signed, and the lookup is what someone waits for.
        return advance(lookupID, nowMs: nowMs) + effects
    }

    mutating func receiveValue(_ reply: ValueReply, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        guard case let .lookup(lookupID, from)? = claim(reply.requestID, inbound) else { return [.ignored(.unexpected)] }
        holdToken(reply.token, from: inbound.source, nowMs: nowMs)
        var effects = answered(inbound, nowMs: nowMs)
        guard var running = lookups[lookupID], case let .get(_, key) = running.purpose else { return effects }
        guard Blake2b.hash256(reply.value) == key else {
            running.lookup.recordFailure(of: from)
            lookups[lookupID] = running
            effects.append(.misbehaved(inbound.sender, "returned a value that does not hash to key \(key.hex.prefix(16))"))
            return effects + advance(lookupID, nowMs: nowMs)
        }
        // The result first, as in `receiveNodes`.
        return take(reply.value, for: lookupID, from: from, nowMs: nowMs) + effects
    }

    /// A Value reply to a running get whose value hashes to the key proves itself: the get takes
    /// it before the envelope's signature is checked (~60 µs, and the pipeline's bookkeeping), so
    /// the caller has its value sooner. Only the request id (ours, random) and the sender's key
    /// are matched; nothing about the still unproven sender is used (table, token, credit wait
    /// for `receiveValue` after the check, which then finds the get done). Returns no effects for
    /// anything else.
    public mutating func takeSelfCertifyingValue(_ message: Message, from sender: PublicKey, nowMs: UInt64) -> [Effect] {
        guard case let .dht(.value(reply)) = message,
              case let .lookup(lookupID, from)? = awaited(reply.requestID, from: sender.nodeID),
              let running = lookups[lookupID], !running.finishedLookup, running.foundValue == nil,
              case let .get(_, key) = running.purpose, Blake2b.hash256(reply.value) == key else { return [] }
        return take(reply.value, for: lookupID, from: from, nowMs: nowMs)
    }

    /// Get `lookupID` takes `value` (already checked against its key) from `from`, and goes on.
    private mutating func take(_ value: [UInt8], for lookupID: UInt64, from: NodeID, nowMs: UInt64) -> [Effect] {
        guard var running = lookups[lookupID] else { return [] }
        running.lookup.recordValue(from: from)
        running.foundValue = value
        running.holder = from
        lookups[lookupID] = running
        return advance(lookupID, nowMs: nowMs)
    }

    mutating func receiveStored(_ reply: StoreReply, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        guard case let .store(lookupID, _)? = claim(reply.requestID, inbound) else { return [.ignored(.unexpected)] }
        holdToken(reply.token, from: inbound.source, nowMs: nowMs)
        var effects = answered(inbound, nowMs: nowMs)
        guard var running = lookups[lookupID] else { return effects }
        running.storesPending -= 1
        if reply.status == .stored { running.storesConfirmed += 1 }
        lookups[lookupID] = running
        effects += finishIfStoresDone(lookupID, nowMs: nowMs)
        return effects
    }

    mutating func receivePong(nonce: UInt64, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        guard let entry = outstanding[nonce], entry.address == inbound.source else { return [.ignored(.unexpected)] }
        switch entry.waiting {
        case let .livenessPing(id), let .requesterPing(id):
            guard inbound.sender.nodeID == id else { return [.ignored(.unexpected)] }
        case .seedPing:
            break
        case .lookup, .store, .announce:
            return [.ignored(.unexpected)]
        }
        outstanding[nonce] = nil
        if case let .requesterPing(node) = entry.waiting { retriedRequesters.remove(node) }
        var effects = answered(inbound, nowMs: nowMs)
        if case .seedPing = entry.waiting { effects += seedAnswered(nowMs: nowMs) }
        return effects
    }

    // MARK: Timeouts

    /// STOREs and Pings that were not answered in time, requests of lookups that have ended (a
    /// running lookup times out its own), and entries `track` dropped to stay bounded (they count
    /// as timed out now).
    mutating func expireOutstanding(nowMs: UInt64) -> [Effect] {
        let expired = outstanding.filter { entry in
            if case let .lookup(lookupID, _) = entry.value.waiting, lookups[lookupID]?.finishedLookup == false {
                return false
            }
            return nowMs >= entry.value.sentMs + config.requestTimeoutMs
        }.sorted { $0.key < $1.key }
        var effects: [Effect] = []
        for (id, entry) in expired {
            outstanding[id] = nil
            switch entry.waiting {
            case let .livenessPing(node):
                if let key = table.contact(for: node)?.publicKey { effects.append(.peerTimedOut(key)) }
                effects += routed(table.recordFailure(of: node, nowMs: nowMs), nowMs: nowMs)
            case let .store(lookupID, node):
                if let key = lookups[lookupID]?.lookup.candidates.first(where: { $0.contact.id == node })?.contact.publicKey {
                    effects.append(.peerTimedOut(key))
                }
                effects += routed(table.recordFailure(of: node, nowMs: nowMs), nowMs: nowMs)
                if var running = lookups[lookupID] {
                    running.storesPending -= 1
                    lookups[lookupID] = running
                    effects += finishIfStoresDone(lookupID, nowMs: nowMs)
                }
            case let .requesterPing(node):
                // One retry: under load the first Pong can miss its deadline, and a newcomer nobody
                // adds is unfindable until it happens to ask us again.
                if retriedRequesters.count >= 4 * config.maxRequesterChecks { retriedRequesters.removeAll() }
                if !table.contains(node), retriedRequesters.insert(node).inserted {
                    effects += ping(entry.address, waiting: .requesterPing(node), nowMs: nowMs)
                } else {
                    retriedRequesters.remove(node)
                }
            case .seedPing, .lookup, .announce:
                break
            }
        }
        // STOREs whose entries `track` dropped will never be answered nor time out here.
        var awaitedStores: [UInt64: Int] = [:]
        for entry in outstanding.values {
            if case let .store(lookupID, _) = entry.waiting { awaitedStores[lookupID, default: 0] += 1 }
        }
        for id in lookups.keys.sorted() {
            guard var running = lookups[id], running.finishedLookup,
                  running.storesPending > awaitedStores[id, default: 0] else { continue }
            running.storesPending = awaitedStores[id, default: 0]
            lookups[id] = running
            effects += finishIfStoresDone(id, nowMs: nowMs)
        }
        // Every seed Ping timed out (or was dropped): the attempt failed.
        if case .contactingSeeds = joinState, !outstanding.values.contains(where: { $0.waiting == .seedPing }) {
            effects += joinAttemptFailed(reason: "no seed answered a ping", nowMs: nowMs)
        }
        return effects
    }

    /// Forgets lookup `id`'s requests to `node` (a retry sends a new one; a failed or banned
    /// candidate is no longer waited for).
    mutating func abandonRequests(of id: UInt64, to node: NodeID) {
        for (requestID, entry) in outstanding where entry.waiting == .lookup(id, node) { outstanding[requestID] = nil }
    }

    mutating func expireLookup(_ id: UInt64, nowMs: UInt64) -> [Effect] {
        guard var running = lookups[id], !running.finishedLookup else { return [] }
        let (retry, failed) = running.lookup.expire(nowMs: nowMs)
        guard !retry.isEmpty || !failed.isEmpty else { return [] }
        lookups[id] = running
        var effects: [Effect] = []
        for contact in retry + failed { abandonRequests(of: id, to: contact.id) }
        for contact in retry {
            effects.append(request(contact, for: id, target: running.lookup.target, purpose: running.purpose, nowMs: nowMs))
        }
        for contact in failed {
            // Only a key that answered us from that address is scored: a contact named in someone
            // else's reply may pair an honest key with a dead address.
            if table.holds(contact) { effects.append(.peerTimedOut(contact.publicKey)) }
            effects += routed(table.recordFailure(of: contact.id, nowMs: nowMs), nowMs: nowMs)
        }
        return effects + advance(id, nowMs: nowMs)
    }

    // MARK: Finishing

    mutating func lookupFinished(_ id: UInt64, nowMs: UInt64) -> [Effect] {
        guard var running = lookups[id] else { return [] }
        let closest = running.lookup.closestAnswered
        switch running.purpose {
        case .join:
            lookups[id] = nil
            guard !closest.isEmpty || table.count > 0 else {
                return joinAttemptFailed(reason: "lookup of our own id found nobody", nowMs: nowMs)
            }
            joinState = .joined
            failedJoinAttempts = 0
            confirmJoinAtMs = config.confirmJoinAfterMs > 0 ? nowMs + config.confirmJoinAfterMs : nil
            lastJoinError = nil
            return [.joined(contacts: table.count)] + refreshAfterJoin(nowMs: nowMs)
        case let .put(_, value), let .replicate(value):
            var effects: [Effect] = []
            for contact in closest {
                guard let held = heldTokens[contact.address] else { continue }
                let requestID = newRequestID()
                track(requestID, .store(id, contact.id), address: contact.address, nowMs: nowMs)
                let header = DHTRequestHeader(requestID: requestID, serverMode: serverMode, token: held.token)
                effects.append(.send(.dht(.store(StoreRequest(header: header, value: value))), to: contact.address))
                running.storesSent += 1
                running.storesPending += 1
            }
            lookups[id] = running
            return effects + finishIfStoresDone(id, nowMs: nowMs)
        case .get:
            guard let value = running.foundValue else { return finish(id, nowMs: nowMs) }
            // Nodes nearer the key than the holder that answered without the value should have
            // had it: give them a copy (bounded, so gets never become a store storm).
            let holderDistance = running.holder.map { $0.distance(to: running.lookup.target) }
            var effects: [Effect] = []
            for candidate in running.lookup.candidates where candidate.state == .answered {
                guard running.storesSent < config.maxRepairStores,
                      let holderDistance, candidate.distance < holderDistance,
                      let held = heldTokens[candidate.contact.address] else { continue }
                let requestID = newRequestID()
                track(requestID, .store(id, candidate.contact.id), address: candidate.contact.address, nowMs: nowMs)
                let header = DHTRequestHeader(requestID: requestID, serverMode: serverMode, token: held.token)
                effects.append(.send(.dht(.store(StoreRequest(header: header, value: value))), to: candidate.contact.address))
                running.storesSent += 1
                running.storesPending += 1
            }
            // The caller has its value now; the repairs finish on their own (their answers only
            // update the table), as go-libp2p-kad-dht corrects stale peers after returning.
            // First, so the caller has its value before the repairs are signed and sent.
            if running.storesPending > 0, let result = result(of: running, nowMs: nowMs) {
                effects.insert(result, at: 0)
                running.reported = true
            }
            lookups[id] = running
            return effects + finishIfStoresDone(id, nowMs: nowMs)
        case .findNode:
            return finish(id, nowMs: nowMs)
        case .refresh:
            if let bucket = table.bucketIndex(of: running.lookup.target), spreadAfterRefresh.contains(bucket) {
                queueSpreadLookups(ofBucket: bucket)
            }
            return finish(id, nowMs: nowMs) + startJoinRefreshes(nowMs: nowMs)
        }
    }

    mutating func finishIfStoresDone(_ id: UInt64, nowMs: UInt64) -> [Effect] {
        guard let running = lookups[id], running.finishedLookup, running.storesPending <= 0 else { return [] }
        return finish(id, nowMs: nowMs)
    }

    /// Ends a lookup and reports it to the caller when it was a caller's operation (unless it
    /// already was).
    mutating func finish(_ id: UInt64, nowMs: UInt64) -> [Effect] {
        guard let running = lookups.removeValue(forKey: id), !running.reported,
              let result = result(of: running, nowMs: nowMs) else { return [] }
        return [result]
    }

    /// What a caller's operation reports, nil for the node's own lookups.
    func result(of running: RunningLookup, nowMs: UInt64) -> Effect? {
        guard let (operation, kind) = running.purpose.operation else { return nil }
        let closest = running.lookup.closestAnswered
        var failure: DHTResult.Failure?
        switch running.purpose {
        case .get: if running.foundValue == nil { failure = .notFound }
        case .put: if running.storesConfirmed == 0 { failure = closest.isEmpty ? .noContacts : .notStored }
        case .findNode: if closest.isEmpty { failure = .noContacts }
        default: break
        }
        return .finished(DHTResult(
            operation: operation, kind: kind, target: running.lookup.target.digest, closest: closest,
            value: running.foundValue, storedAt: running.storesConfirmed, hops: running.lookup.hops,
            requests: running.lookup.requestsSent + running.storesSent, startedMs: running.startedMs,
            finishedMs: nowMs, failure: failure))
    }

    /// Kademlia's join: refresh the buckets farther than our closest neighbour, so the table
    /// learns contacts across the whole id space, not only near us.
    /// - Farthest first: bucket 0 covers half of all keys, while the nearest buckets are mostly
    ///   filled by the join's lookup of our own id.
    /// - Then, with the spread rule on, one short lookup to each region of a full bucket's range
    ///   that the bucket lacks: a bucket filled by one refresh holds the contacts around that
    ///   lookup's target, and a get for a key elsewhere in its range would need a second round.
    /// - At most `maintenanceLookupsPerTick × 4` run at once; each one that ends starts the next,
    ///   so in a large network no bucket is left for the hourly refresh.
    mutating func refreshAfterJoin(nowMs: UInt64) -> [Effect] {
        guard let nearest = table.closest(to: ownID, count: 1).first,
              let deepest = table.bucketIndex(of: nearest.id) else { return [] }
        pendingJoinRefreshes = (0..<deepest).map { JoinRefresh(bucket: $0, region: nil) }
        spreadAfterRefresh = config.routing.spreadBits > 0 ? Set(0..<min(deepest, config.spreadLookupBuckets)) : []
        return startJoinRefreshes(nowMs: nowMs)
    }

    /// Queues, ahead of the remaining bucket refreshes, one spread lookup per region of the
    /// bucket's range (each is started only if still useful). Called once the bucket's own
    /// refresh ended or was not needed, so the bucket is as full as it will get.
    mutating func queueSpreadLookups(ofBucket bucket: Int) {
        guard spreadAfterRefresh.remove(bucket) != nil else { return }
        let regions = (0..<(1 << config.routing.spreadBits)).map { JoinRefresh(bucket: bucket, region: $0) }
        pendingJoinRefreshes.insert(contentsOf: regions, at: 0)
    }

    /// Starts pending join refreshes that are still useful, up to the concurrency cap: a bucket's
    /// refresh while it has room, a region's while an answer from there would displace a contact
    /// of a more crowded region (`RoutingTable.wouldDisplace`).
    mutating func startJoinRefreshes(nowMs: UInt64) -> [Effect] {
        guard !pendingJoinRefreshes.isEmpty else { return [] }
        var running = lookups.values.reduce(0) { $0 + ($1.purpose == .refresh ? 1 : 0) }
        var effects: [Effect] = []
        while running < config.maintenanceLookupsPerTick * 4, lookups.count < config.maxLookups / 2,
              !pendingJoinRefreshes.isEmpty {
            let next = pendingJoinRefreshes.removeFirst()
            let bytes = random.bytes(32)
            if let region = next.region {
                let target = table.refreshTarget(forBucket: next.bucket, region: region, randomBytes: bytes)
                guard table.wouldDisplace(target) else { continue }
                effects += startLookup(target: target, purpose: .refresh, closest: config.spreadLookupK, nowMs: nowMs)
            } else {
                guard table.contacts(inBucket: next.bucket).count < config.routing.k else {
                    queueSpreadLookups(ofBucket: next.bucket)
                    continue
                }
                effects += startLookup(target: table.refreshTarget(forBucket: next.bucket, randomBytes: bytes),
                                       purpose: .refresh, nowMs: nowMs)
            }
            running += 1
        }
        return effects
    }

    /// What a deliberately broken variant does on a Nodes reply (nothing for a correct node).
    mutating func brokenVariantEffects(_ contacts: [Contact], _ inbound: Inbound, token: [UInt8],
                                       nowMs: UInt64) -> [Effect] {
        switch config.brokenVariant {
        case nil:
            return []
        case .trustHearsay?:
            return contacts.flatMap {
                routed(table.recordAnswer(from: $0.publicKey, at: $0.address, nowMs: nowMs), nowMs: nowMs)
            }
        case .storeOnEveryReply?:
            return records.keys.compactMap { key in
                records.value(for: key, nowMs: nowMs).map { value in
                    let header = DHTRequestHeader(requestID: random.next(), serverMode: serverMode, token: token)
                    return .send(.dht(.store(StoreRequest(header: header, value: value))), to: inbound.source)
                }
            }
        }
    }
}
