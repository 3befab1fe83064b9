import PRSMWire

/// Block sync and epoch proofs: what the core hands a peer that is behind, and how it takes
/// blocks and proofs from one — always verified, never trusted.
extension ConsensusCore {
    /// The blocks a peer at committed height `knownHeight` needs to reach `target`: the oldest
    /// ones first, at most `maxBlocks` and about `maxBytes`. Empty when we do not hold the
    /// target or the chain down to `knownHeight` (pruned).
    public func blocksForSync(toward target: Digest32, above knownHeight: UInt64, maxBlocks: Int,
                              maxBytes: Int) -> [Block] {
        var path: [Block] = []
        var cursor = blocks[target]
        while let block = cursor, block.height > knownHeight {
            path.append(block)
            cursor = blocks[block.parent]
        }
        guard cursor != nil else { return [] }
        var chosen: [Block] = []
        var bytes = 0
        for block in path.reversed() {
            let size = block.encodedSize
            if !chosen.isEmpty, chosen.count >= maxBlocks || bytes + size > maxBytes { break }
            chosen.append(block)
            bytes += size
        }
        return chosen
    }

    /// Blocks from a sync answer, ascending. Each must extend a block we hold and carry a valid
    /// QC for its parent; they are stored (not voted for) and their QCs processed, so the 2-chain
    /// rule commits what is final. Asks again while a wanted block is still missing.
    public mutating func receiveSynced(_ synced: [Block], from sender: Int, nowMs: UInt64) -> [Effect] {
        var effects: [Effect] = []
        var progressed = false
        for block in synced {
            if blocks[block.hash] != nil { continue }
            defer {
                if proposalOwed == view, blocks[highQC.blockHash] != nil {
                    proposalOwed = nil
                    effects.append(.proposeNow(view: view))
                }
            }
            guard block.epoch == validators.epoch, let parent = blocks[block.parent] else { break }
            guard block.parent == block.justify.blockHash, block.height == parent.height + 1, block.view > viewInEpoch(parent),
                  block.proposer == validators.leader(of: block.view), verify(block.justify) else {
                effects.append(.misbehaved(validator: sender, "sync answer with a block that does not verify"))
                break
            }
            if let tc = block.timeoutCertificate, !checked(tc) {
                effects.append(.misbehaved(validator: sender, "sync answer with an invalid TC"))
                break
            }
            blocks[block.hash] = block
            wantedBlocks.remove(block.hash)
            progressed = true
            effects += process(block.justify, nowMs: nowMs)
            effects += adoptOrphan(of: block, nowMs: nowMs)
        }
        let stillMissing = orphans.filter { blocks[$0.key] == nil }.min {
            ($0.value.block.view, $0.key) < ($1.value.block.view, $1.key)
        }
        if progressed, let missing = stillMissing {
            effects.append(.missingParent(missing.key, from: sender))
        }
        return effects
    }

    /// The proof that `boundary` (committed by the last commit) is final: the certified blocks
    /// above it up to the QC that committed it. Nil when the commit did not come from a 2-chain.
    public func commitProof(of boundary: Block) -> EpochProof? {
        guard let certificate = lastCommitCertificate else { return nil }
        var chain: [Block] = []
        var cursor = blocks[certificate.blockHash]
        while let block = cursor, block.height > boundary.height {
            chain.append(block)
            cursor = blocks[block.parent]
        }
        guard cursor?.hash == boundary.hash, !chain.isEmpty, chain.count <= ConsensusLimits.maxSyncBlocks else { return nil }
        return EpochProof(blocks: chain.reversed(), certificate: certificate)
    }

    /// Another node's proof that a block of this epoch is final: its blocks are taken as synced
    /// ones, then its certificate is processed, so the 2-chain rule commits what it proves.
    public mutating func receiveEpochProof(_ proof: EpochProof, from sender: Int, nowMs: UInt64) -> [Effect] {
        guard let last = proof.blocks.last, proof.certificate.blockHash == last.hash, proof.certificate.view == last.view,
              last.epoch == validators.epoch else {
            return [.ignored("epoch proof that does not fit this epoch")]
        }
        let effects = receiveSynced(proof.blocks, from: sender, nowMs: nowMs)
        guard blocks[last.hash] != nil else { return effects }
        guard verify(proof.certificate) else {
            return effects + [.misbehaved(validator: sender, "epoch proof with an invalid certificate")]
        }
        return effects + process(proof.certificate, nowMs: nowMs)
    }
}
