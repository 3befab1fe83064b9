import PRSMWire

/// Answering requests: stateless, bounded by the anti-amplification budget.
extension DHTCore {
    /// The size of the datagram that carried `inbound` (what the 3× budget is measured against).
    static func datagramSize(of inbound: Inbound) -> Int {
        Envelope.overhead + inbound.envelope.payload.readableBytes
    }

    /// Bytes a reply to `inbound` may take: a full datagram for a requester holding a valid
    /// token for its source address, otherwise 3× its request.
    func replyBudget(_ header: DHTRequestHeader, _ inbound: Inbound, nowMs: UInt64) -> Int {
        if tokens.isValid(header.token, for: inbound.source, nowMs: nowMs) { return Envelope.maxDatagramSize }
        return min(Envelope.maxDatagramSize, 3 * Self.datagramSize(of: inbound))
    }

    /// A request from a server-mode node refreshes its table entry, or (when it is new to us and
    /// its bucket wants a candidate) earns it a Ping: it enters the table only by answering. A
    /// client-mode requester is removed. Callers send their answer first, so the Ping never
    /// delays it (neither here nor at the requester, who would verify the Ping first).
    mutating func noteRequester(_ header: DHTRequestHeader, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        guard inbound.sender != identity else { return [] }
        let id = inbound.sender.nodeID
        // A client-mode node cannot be reached unsolicited: it leaves our table.
        guard header.serverMode else { return table.contains(id) ? routed(table.remove(id), nowMs: nowMs) : [] }
        if table.contains(id) {
            table.recordRequest(from: inbound.sender, at: inbound.source, nowMs: nowMs)
            return []
        }
        guard !table.isReplacement(id), table.wantsCandidate(id, nowMs: nowMs) else { return [] }
        let checks = outstanding.values.reduce(0) { count, entry in
            if case .requesterPing = entry.waiting { return count + 1 }
            return count
        }
        guard checks < config.maxRequesterChecks,
              !outstanding.values.contains(where: { $0.waiting == .requesterPing(id) }) else { return [] }
        return ping(inbound.source, waiting: .requesterPing(id), nowMs: nowMs)
    }

    mutating func answerFindNode(_ request: FindNode, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        [nodesReply(to: request.header, target: request.target, inbound, nowMs: nowMs)]
            + noteRequester(request.header, inbound, nowMs: nowMs)
    }

    mutating func answerFindValue(_ request: FindValue, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        let token = tokens.mint(for: inbound.source, nowMs: nowMs)
        if let value = records.value(for: request.key, nowMs: nowMs) {
            let reply = Message.dht(.value(ValueReply(requestID: request.header.requestID, token: token, value: value)))
            if Envelope.overhead + reply.encodePayload().readableBytes <= replyBudget(request.header, inbound, nowMs: nowMs) {
                return [.send(reply, to: inbound.source)] + noteRequester(request.header, inbound, nowMs: nowMs)
            }
        }
        return [nodesReply(to: request.header, target: NodeID(digest: request.key), inbound, nowMs: nowMs)]
            + noteRequester(request.header, inbound, nowMs: nowMs)
    }

    /// The closest contacts we know (never the requester itself), trimmed to the reply budget.
    func nodesReply(to header: DHTRequestHeader, target: NodeID, _ inbound: Inbound, nowMs: UInt64) -> Effect {
        let token = tokens.mint(for: inbound.source, nowMs: nowMs)
        let budget = replyBudget(header, inbound, nowMs: nowMs)
        let requester = inbound.sender.nodeID
        var size = Envelope.overhead + 8 + 4 + token.count + 4
        var contacts: [WireContact] = []
        for contact in table.closest(to: target, count: config.routing.k + 1) where contact.id != requester {
            guard contacts.count < min(config.routing.k, DHTLimits.maxContacts) else { break }
            let wire = WireContact(publicKey: contact.publicKey, address: contact.address)
            var writer = WireWriter()
            wire.encode(into: &writer)
            guard size + writer.buffer.readableBytes <= budget else { break }
            size += writer.buffer.readableBytes
            contacts.append(wire)
        }
        return .send(.dht(.nodes(NodesReply(requestID: header.requestID, token: token, contacts: contacts))),
                     to: inbound.source)
    }

    mutating func answerStore(_ request: StoreRequest, _ inbound: Inbound, nowMs: UInt64) -> [Effect] {
        let status: StoreReply.Status
        if tokens.isValid(request.header.token, for: inbound.source, nowMs: nowMs) {
            status = records.store(request.value, from: inbound.sender, nowMs: nowMs)
        } else {
            status = .badToken
        }
        let token = tokens.mint(for: inbound.source, nowMs: nowMs)
        return [.send(.dht(.stored(StoreReply(requestID: request.header.requestID, token: token, status: status))),
                      to: inbound.source)] + noteRequester(request.header, inbound, nowMs: nowMs)
    }
}
