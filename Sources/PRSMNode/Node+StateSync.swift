import Logging

/// State sync in the shell. Validators store each checkpoint's snapshot in chunks and, once a
/// quorum certifies it, serve it (with the certificates of the epoch changes before it). A
/// node that sees the chain more than a checkpoint interval ahead of its own committed height
/// fetches the newest certified snapshot from a validator, checks it against the validators it
/// trusts, adopts it, and block-syncs the rest.
extension Node {
    // MARK: serving

    /// Keeps a checkpoint's snapshot, cut into chunks, until its certificate comes.
    func storeCheckpoint(_ checkpoint: Checkpoint, snapshot: [UInt8]) {
        guard let store else { return }
        let size = ConsensusLimits.snapshotChunkBytes
        let chunks = max(1, (snapshot.count + size - 1) / size)
        guard chunks <= ConsensusLimits.maxSnapshotChunks else {
            logger.warning("checkpoint snapshot too large to serve", metadata: ["height": "\(checkpoint.height)", "bytes": "\(snapshot.count)"])
            return
        }
        var batch = StoreBatch()
        for index in 0..<chunks {
            let start = index * size
            batch.put(.checkpoints, Self.checkpointChunkKey(checkpoint.height, UInt32(index)),
                      Array(snapshot[start..<min(start + size, snapshot.count)]))
        }
        // One uncertified checkpoint too many: the oldest is dropped (it never got a quorum).
        if stateSync.taken.count >= StateSyncState.maxTaken, let oldest = stateSync.taken.min(by: { $0.key < $1.key }) {
            deleteCheckpointChunks(height: oldest.key, count: oldest.value, in: &batch)
            stateSync.taken[oldest.key] = nil
        }
        do {
            try store.apply(batch)
            stateSync.taken[checkpoint.height] = UInt32(chunks)
        } catch {
            storeErrors += 1
            logger.warning("checkpoint snapshot not saved", metadata: ["height": "\(checkpoint.height)", "error": "\(error)"])
        }
    }

    /// A quorum certified one of our checkpoints: serve it from now on (the one served before is
    /// deleted), and keep an epoch's last certificate for the nodes that must cross it.
    func recordCheckpointCertificate(_ certificate: CheckpointCertificate, next: ValidatorSet?) {
        guard let store else { return }
        let height = certificate.checkpoint.height
        var batch = StoreBatch()
        if let next {
            batch.put(.consensus, Self.epochLinkKey(certificate.checkpoint.epoch),
                      Self.encode(SnapshotChunk.EpochLink(certificate: certificate, next: next)))
        }
        if let chunks = stateSync.taken[height], height > (stateSync.served?.height ?? 0) {
            var writer = WireWriter()
            certificate.encode(into: &writer)
            writer.u32(chunks)
            batch.put(.consensus, Self.servedCheckpointKey, writer.bytesWritten)
            if let old = stateSync.served { deleteCheckpointChunks(height: old.height, count: old.chunks, in: &batch) }
            for (taken, count) in stateSync.taken where taken < height {
                deleteCheckpointChunks(height: taken, count: count, in: &batch)
            }
            do {
                try store.apply(batch)
                stateSync.taken = stateSync.taken.filter { $0.key > height }
                stateSync.served = .init(certificate: certificate, chunks: chunks)
                logger.info("checkpoint certified", metadata: ["height": "\(height)", "epoch": "\(certificate.checkpoint.epoch)"])
            } catch {
                storeErrors += 1
                logger.warning("checkpoint certificate not saved", metadata: ["height": "\(height)", "error": "\(error)"])
            }
        } else if next != nil {
            do { try store.apply(batch) } catch { storeErrors += 1 }
        }
    }

    private func deleteCheckpointChunks(height: UInt64, count: UInt32, in batch: inout StoreBatch) {
        for index in 0..<count { batch.delete(.checkpoints, Self.checkpointChunkKey(height, index)) }
    }

    /// Answers with one chunk of the certified snapshot we serve, if it is above the requester's
    /// height, with the epoch links from the requester's epoch to the snapshot's.
    func serveSnapshot(_ request: SnapshotRequest) {
        guard let store, let served = stateSync.served, served.height > request.knownHeight,
              request.height == 0 || request.height == served.height, request.chunk < served.chunks,
              request.epoch <= served.certificate.checkpoint.epoch else {
            countDrop(.consensusRefused)
            return
        }
        // A requester further behind gets the first maxEpochLinks links; it walks them and asks
        // again from the epoch they lead to.
        var links: [SnapshotChunk.EpochLink] = []
        let lastEpoch = min(served.certificate.checkpoint.epoch, request.epoch + UInt64(ConsensusLimits.maxEpochLinks))
        for epoch in request.epoch..<lastEpoch {
            guard let bytes = try? store.get(.consensus, Self.epochLinkKey(epoch)),
                  let link = try? Self.decodeLink(bytes) else {
                logger.notice("cannot prove the epoch changes a snapshot request needs", metadata: ["from_epoch": "\(request.epoch)"])
                countDrop(.consensusRefused)
                return
            }
            links.append(link)
        }
        guard var bytes = try? store.get(.checkpoints, Self.checkpointChunkKey(served.height, request.chunk)) else {
            countDrop(.consensusRefused)
            return
        }
        if options.consensus?.fault == .corruptSnapshot, !bytes.isEmpty { bytes[bytes.count / 2] ^= 0x01 }
        let chunk = SnapshotChunk(links: links, certificate: served.certificate, index: request.chunk,
                                  count: served.chunks, bytes: bytes)
        reply(.snapshotChunk(chunk))
    }

    // MARK: fetching

    /// Heights validators show us: when the chain is more than a checkpoint interval ahead,
    /// block sync would replay a long way (or find the blocks pruned), so a snapshot is fetched.
    func noteChainHeight(of message: ConsensusMessage, from sender: PublicKey) {
        guard let validators = consensus?.core.validators else { return }
        switch message {
        case let .proposal(block):
            stateSync.claims.note(block.height, from: sender, validators: validators)
        case let .blockResponse(response):
            let top = response.prunedAtHeight ?? (response.epochProof?.blocks.last ?? response.blocks.last)?.height ?? 0
            stateSync.claims.note(top, from: sender, validators: validators)
        default: break
        }
    }

    /// When a snapshot request is due: now if the chain is more than a checkpoint interval
    /// ahead; once we have been behind without moving for `stuckMs`; never if we are level.
    func snapshotDueMs(nowMs: UInt64) -> UInt64? {
        guard let options = options.consensus, options.stateSync, let replica = consensus,
              replica.checkpointInterval > 0 else { return nil }
        let height = replica.core.committed.height
        if height != stateSync.watchedHeight {
            stateSync.watchedHeight = height
            stateSync.watchedSinceMs = nowMs
        }
        // Proposals run a block or two above the committed height: that is not being behind.
        let chainHeight = stateSync.claims.credibleHeight(validators: replica.core.validators)
        guard chainHeight > height + 3 else { return nil }
        let due = chainHeight > height + replica.checkpointInterval
            ? nowMs : stateSync.watchedSinceMs + StateSyncState.stuckMs
        return max(due, stateSync.nextRequestMs)
    }

    /// Asks for the next chunk of the download, or (none running) for a snapshot from the next
    /// validator in the directory; gives up on a peer that stalls.
    func requestSnapshot(nowMs: UInt64) {
        guard nowMs >= stateSync.nextRequestMs, consensus != nil else { return }
        if stateSync.download != nil, nowMs > stateSync.downloadProgressMs + StateSyncState.stallMs {
            logger.notice("snapshot download stalled; asking another validator")
            stateSync.download = nil
        }
        guard stateSync.download != nil || (snapshotDueMs(nowMs: nowMs).map { $0 <= nowMs } ?? false) else { return }
        stateSync.nextRequestMs = nowMs + StateSyncState.requestIntervalMs
        if let download = stateSync.download {
            stateSync.nextRequestMs = nowMs + StateSyncState.chunkRetryMs
            askForChunk(download.nextChunk, of: download.checkpoint.height, from: download.peer)
            return
        }
        let peers = options.consensus?.directory.keys.filter { $0 != identity }.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) } ?? []
        guard !peers.isEmpty else { return }
        stateSync.cursor = (stateSync.cursor + 1) % peers.count
        // Height 0, chunk 0: "your newest certified snapshot".
        askForChunk(0, of: 0, from: peers[stateSync.cursor])
        stateSync.askedMs = nowMs
    }

    private func askForChunk(_ chunk: UInt32, of height: UInt64, from peer: PublicKey) {
        guard let replica = consensus else { return }
        let request = SnapshotRequest(epoch: trustedSet(replica).epoch, knownHeight: replica.core.committed.height,
                                      height: height, chunk: chunk)
        sendRequest(.snapshotRequest(request), to: peer)
    }

    /// The validators a snapshot's certificates are checked against: our own epoch's, or the
    /// later set earlier pages of epoch links proved.
    private func trustedSet(_ replica: ConsensusReplica) -> ValidatorSet {
        if let linked = stateSync.linkedSet, linked.epoch > replica.core.validators.epoch { return linked }
        return replica.core.validators
    }

    /// A chunk: the first starts a download once its certificates check out; the last
    /// completes it, and the snapshot is adopted and kept as our own.
    func receiveSnapshotChunk(_ chunk: SnapshotChunk, from sender: PublicKey, nowMs: UInt64) {
        guard let replica = consensus else { return }
        do throws(StateSyncRefusal) {
            if var download = stateSync.download {
                guard sender == download.peer else { return }
                try download.add(chunk)
                stateSync.download = download
            } else {
                guard let asked = stateSync.askedMs, nowMs <= asked + StateSyncState.stallMs else { return }
                let trusted = trustedSet(replica)
                if chunk.index == 0, !chunk.links.isEmpty,
                   chunk.certificate.checkpoint.epoch > trusted.epoch + UInt64(chunk.links.count) {
                    // One page of epoch links: walk it, then ask the same peer for the next page.
                    let (set, checked) = try SnapshotDownload.follow(chunk.links, from: trusted)
                    for _ in 0..<checked { options.cpu?(.verify) }
                    stateSync.linkedSet = set
                    stateSync.askedMs = nowMs
                    stateSync.nextRequestMs = nowMs + StateSyncState.chunkRetryMs
                    logger.notice("epoch changes proven up to a later epoch; asking for the rest", metadata: [
                        "epoch": "\(set.epoch)", "snapshot_epoch": "\(chunk.certificate.checkpoint.epoch)", "peer": "\(sender)",
                    ])
                    askForChunk(0, of: 0, from: sender)
                    return
                }
                let download = try SnapshotDownload(first: chunk, from: sender, trusted: trusted,
                                                    knownHeight: replica.core.committed.height)
                for _ in 0..<download.signaturesChecked { options.cpu?(.verify) }
                stateSync.download = download
            }
            stateSync.downloadProgressMs = nowMs
            guard let download = stateSync.download else { return }
            guard download.isComplete else {
                askForChunk(download.nextChunk, of: download.checkpoint.height, from: download.peer)
                stateSync.nextRequestMs = nowMs + StateSyncState.chunkRetryMs
                return
            }
            stateSync.download = nil
            stateSync.askedMs = nil
            adopt(try download.snapshot(), from: sender)
        } catch {
            stateSync.download = nil
            countDrop(.consensusRefused)
            options.observer?(.consensusIgnored(reason: "snapshot from \(sender) refused: \(error)"))
            logger.warning("snapshot refused", metadata: ["reason": "\(error)", "peer": "\(sender)"])
        }
    }

    private func adopt(_ snapshot: ConsensusSnapshot, from peer: PublicKey) {
        guard snapshot.height > consensus?.core.committed.height ?? .max else { return }
        guard consensus != nil else { return }
        let effects: [ConsensusReplica.Effect]
        do {
            effects = try consensus!.adopt(snapshot, nowMs: clock.nowMs)
        } catch {
            logger.warning("certified snapshot does not restore", metadata: ["error": "\(error)"])
            return
        }
        stateSync.adopted += 1
        stateSync.linkedSet = nil
        logger.notice("state synced from a peer's snapshot", metadata: [
            "height": "\(snapshot.height)", "epoch": "\(snapshot.validators.epoch)", "peer": "\(peer)",
        ])
        options.observer?(.stateSynced(height: snapshot.height, hash: snapshot.block.hash, epoch: snapshot.validators.epoch))
        // It becomes our own: a restart starts from it.
        if let store { saveSnapshot(snapshot, to: store) }
        applyConsensus(effects)
        // An observer asks for the blocks above the snapshot at once: the peers keep only a
        // window of them, and waiting out the follow interval can find them pruned.
        nextFollowMs = clock.nowMs
    }

    // MARK: store keys

    static let servedCheckpointKey = Array("checkpoint-served".utf8)
    static func checkpointChunkKey(_ height: UInt64, _ index: UInt32) -> [UInt8] {
        Array("checkpoint:".utf8) + heightKey(height) + withUnsafeBytes(of: index.bigEndian, Array.init)
    }
    static func epochLinkKey(_ epoch: UInt64) -> [UInt8] { Array("epoch-link:".utf8) + heightKey(epoch) }

    static func encode(_ link: SnapshotChunk.EpochLink) -> [UInt8] {
        var writer = WireWriter()
        link.encode(into: &writer)
        return writer.bytesWritten
    }

    static func decodeLink(_ bytes: [UInt8]) throws(WireError) -> SnapshotChunk.EpochLink {
        var reader = WireReader(bytes: bytes)
        let link = try SnapshotChunk.EpochLink.decode(from: &reader)
        try reader.finish()
        return link
    }

    /// The certified snapshot a restarted node serves again.
    static func loadServedCheckpoint(from store: any Store) -> StateSyncState.Served? {
        guard let bytes = try? store.get(.consensus, servedCheckpointKey) else { return nil }
        var reader = WireReader(bytes: bytes)
        guard let certificate = try? CheckpointCertificate.decode(from: &reader), let chunks = try? reader.u32("chunks"),
              (try? reader.finish()) != nil else { return nil }
        return .init(certificate: certificate, chunks: chunks)
    }
}
