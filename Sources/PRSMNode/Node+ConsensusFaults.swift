import NIOCore

/// A vote held back by the `delay-votes` fault.
struct DelayedConsensusSend {
    let dueMs: UInt64
    let message: ConsensusMessage
    let targets: [PublicKey]
}

/// The simulator's Byzantine validators: each `ConsensusFault` bends how this node sends its
/// consensus messages. Real nodes never set one.
extension Node {
    static let voteDelayMs: UInt64 = 1_500
    static let replayMemory = 64

    /// Carries out `fault` for `message`; true when the fault replaced the normal send.
    func bend(_ message: ConsensusMessage, targets: [PublicKey], fault: ConsensusFault) -> Bool {
        switch (fault, message) {
        case (.withholdVotes, .vote), (.silentLeader, .proposal):
            return true
        case (.delayVotes, .vote):
            delayedConsensus.append(DelayedConsensusSend(dueMs: clock.nowMs + Self.voteDelayMs, message: message,
                                                        targets: targets))
            return true
        case let (.equivocate, .proposal(block)):
            equivocate(block, targets: targets)
            return true
        case (.garbage, _):
            sendGarbage(kind: message.kind, targets: targets)
            return false
        case (.replayOld, _):
            replayOld(targets: targets)
            return false
        default:
            return false
        }
    }

    /// Sends the held votes whose delay has passed.
    func flushDelayedConsensus(nowMs: UInt64) {
        while let first = delayedConsensus.first, first.dueMs <= nowMs {
            delayedConsensus.removeFirst()
            sealAndDeliver(first.message, to: addresses(of: first.targets))
        }
    }

    /// Half the validators get `block`, the other half a conflicting block for the same view
    /// (one extra, validly signed transaction), each sealed by us.
    private func equivocate(_ block: Block, targets: [PublicKey]) {
        let extra = Transaction.signed(by: options.identity, networkID: networkID, nonce: .max - block.view,
                                       payload: Array("equivocation=\(block.view)".utf8))
        let twin = Block(epoch: block.epoch, view: block.view, height: block.height, parent: block.parent,
                         justify: block.justify, timeoutCertificate: block.timeoutCertificate, proposer: block.proposer,
                         executedHeight: block.executedHeight, stateRoot: block.stateRoot,
                         transactions: block.transactions + [extra])
        let half = targets.count / 2
        for (message, group) in [(ConsensusMessage.proposal(block), Array(targets[..<half])),
                                 (.proposal(twin), Array(targets[half...]))] {
            sealAndDeliver(message, to: addresses(of: group))
        }
    }

    /// A validly signed envelope of a consensus kind whose payload is random bytes: receivers
    /// must refuse it as malformed, blame us, and carry on.
    private func sendGarbage(kind: MessageKind, targets: [PublicKey]) {
        let payload = (0..<(16 + Int(nextRandom() % 200))).map { _ in UInt8(truncatingIfNeeded: nextRandom()) }
        let bytes = Envelope.seal(kind: kind.rawValue, payload: ByteBuffer(bytes: payload), networkID: networkID,
                                  key: options.identity, sequence: nextSequence(), timestamp: clock.nowMs)
        options.cpu?(.sign)
        for address in addresses(of: targets) { sendSealed(bytes, to: address) }
    }

    /// Re-sends two old sealed envelopes as they were (receivers must see replays) and re-seals
    /// an old message (receivers must see a stale view).
    private func replayOld(targets: [PublicKey]) {
        guard !replayBacklog.isEmpty else { return }
        let addresses = addresses(of: targets)
        for _ in 0..<2 {
            let old = replayBacklog[Int(nextRandom() % UInt64(replayBacklog.count))]
            for address in addresses { sendSealed(old.bytes, to: address) }
        }
        let old = replayBacklog[Int(nextRandom() % UInt64(replayBacklog.count))]
        guard let bytes = seal(.consensus(old.message)) else { return }
        deliver(bytes, of: old.message, to: addresses)
    }

    func rememberForReplay(_ bytes: ByteBuffer, _ message: ConsensusMessage) {
        guard options.consensus?.fault == .replayOld else { return }
        replayBacklog.append((bytes, message))
        if replayBacklog.count > Self.replayMemory { replayBacklog.removeFirst() }
    }
}
