import NIOCore

/// Block sync in the shell: asking a validator for a missing chain (throttled), answering from
/// the store below what memory holds, and an observer following the chain by polling.
extension Node {
    /// Asks `validator` for the chain up to `hash`, at most once per `syncRetryMs` per validator
    /// (every proposal with an unknown parent would ask again).
    func requestBlocks(toward hash: Digest32, from validator: PublicKey) {
        guard let replica = consensus else { return }
        let now = clock.nowMs
        if let last = syncRequestedMs[validator], now < last + Self.syncRetryMs, syncRequestedTarget[validator] == hash {
            return
        }
        syncRequestedMs[validator] = now
        syncRequestedTarget[validator] = hash
        sendRequest(.blockRequest(BlockRequest(target: hash, knownHeight: replica.core.committed.height)), to: validator)
    }

    /// Sync requests (blocks, snapshot chunks) are datagrams: sealed once, sent to the peer's
    /// addresses, not reported as consensus traffic.
    func sendRequest(_ request: ConsensusMessage, to peer: PublicKey) {
        guard let bytes = seal(.consensus(request)) else { return }
        for address in addresses(of: [peer]) { sendSealed(bytes, to: address) }
    }

    static let syncRetryMs: UInt64 = 500

    /// Answers a sync request with committed blocks read from the store, oldest first, up to
    /// `ConsensusLimits.maxSyncBytes` (the requester asks again for the rest). An answer stops
    /// at the block that ended an epoch and carries that epoch's proof.
    func respondFromStore(from: UInt64, through: UInt64) {
        guard let store else { return }
        var blocks: [Block] = []
        var bytes = 0
        var proof: EpochProof?
        for height in from...through {
            guard let value = try? store.get(.blocks, Self.heightKey(height)) else { break }
            var reader = WireReader(bytes: value)
            guard let block = try? Block.decode(from: &reader), block.height == height else { break }
            // The proof counts against the budget too: a boundary block whose proof does not fit
            // starts the next answer instead.
            let storedProof = try? store.get(.consensus, Self.epochProofKey(height))
            let cost = value.count + (storedProof?.count ?? 0)
            if !blocks.isEmpty, bytes + cost > ConsensusLimits.maxSyncBytes { break }
            blocks.append(block)
            bytes += cost
            if let storedProof {
                var proofReader = WireReader(bytes: storedProof)
                proof = try? EpochProof.decode(from: &proofReader)
                break
            }
        }
        guard !blocks.isEmpty else {
            // Pruned: say how far the chain is, so the requester fetches a snapshot.
            if let lowest = storedChain.lowestHeight, from < lowest, let height = consensus?.core.committed.height {
                reply(.blockResponse(BlockResponse(prunedAtHeight: height)))
            } else {
                countDrop(.consensusRefused)
            }
            return
        }
        reply(.blockResponse(BlockResponse(blocks: blocks, epochProof: proof)))
    }

    /// A node that does not vote in this epoch (an observer, or a validator that was removed)
    /// receives no proposals: it asks the validators in turn for the blocks above its own.
    func followChain(nowMs: UInt64) {
        guard let replica = consensus, replica.core.myIndex == nil, nowMs >= nextFollowMs,
              let interval = options.consensus?.followIntervalMs else { return }
        nextFollowMs = nowMs + interval
        let validators = replica.otherValidators.filter { !addresses(of: [$0]).isEmpty }
        guard !validators.isEmpty else { return }
        followCursor = (followCursor + 1) % validators.count
        sendRequest(.blockRequest(BlockRequest(target: .zero, knownHeight: replica.core.committed.height)),
                    to: validators[followCursor])
    }
}
