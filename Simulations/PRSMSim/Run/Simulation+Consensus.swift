import PRSMNode

/// The consensus workload: validators run the engine with their own keys (Byzantine ones with
/// their fault), clients submit signed `key=value` transactions to random honest validators, and
/// the governor submits the validator-set changes the topology lists.
extension Simulation {
    /// Where every node that runs the engine listens, by node key (two nodes for a Twin).
    var consensusDirectory: [PublicKey: [PeerAddress]] {
        var directory: [PublicKey: [PeerAddress]] = [:]
        for sim in nodes where runsConsensus(sim) { directory[sim.key.publicKey, default: []].append(sim.address) }
        return directory
    }

    func isValidator(_ sim: SimNode) -> Bool {
        genesis.validators.contains { $0.nodeKey == sim.key.publicKey }
    }

    /// Genesis validators and the nodes a reconfiguration names (observers until then).
    func runsConsensus(_ sim: SimNode) -> Bool {
        isValidator(sim) || topology.consensus?.reconfigurations.contains { $0.validators.contains(sim.name) } == true
    }

    /// The engine options for `sim`, or nil when it does not run consensus.
    func consensusOptions(for sim: SimNode, _ workload: ConsensusWorkload) -> ConsensusOptions? {
        guard runsConsensus(sim) else { return nil }
        var options = ConsensusOptions(validatorKey: sim.spec.validatorKey, directory: consensusDirectory)
        options.makeApplication = { KeyValueApplication(governor: ConsensusWorkload.governor.publicKey) }
        options.replica.core.baseViewTimeoutMs = workload.baseViewTimeoutMs
        options.replica.core.maxViewTimeoutMs = workload.maxViewTimeoutMs
        options.replica.core.unsafeOneChainCommit = workload.unsafeOneChainCommit
        options.replica.core.voteBroadcastLimit = workload.voteBroadcastLimit
        options.replica.maxBlockTransactions = workload.maxBlockTransactions
        options.replica.core.retainedBlocks = workload.retainedBlocks
        options.retention = workload.retention
        options.fault = sim.spec.behaviour?.consensusFault
        return options
    }

    /// Clients submit `txRate` transactions per second between `txStartMs` and `txEndMs`.
    func scheduleClients(_ workload: ConsensusWorkload) {
        consensusStats.honestValidators = nodes.filter { runsConsensus($0) && !topology.isByzantine($0.index) }.count
        scheduleReconfigurations(workload)
        guard workload.txRate > 0 else { return }
        let end = workload.txEndMs ?? topology.durationMs.saturatingSubtract(5_000)
        let gapUs = max(1, 1_000_000 / workload.txRate)
        let clients = (0..<workload.clients).map { index in
            try! SigningKey(seed: Blake2b.hash256(Array("prsm-sim-client:\(index)".utf8)).bytes)
        }
        var nonces = [UInt64](repeating: 0, count: clients.count)
        var random = SimRandom(seed: options.seed, stream: "consensus.clients")
        var atUs = workload.txStartMs * 1_000
        var sent = 0
        // One scheduled event per second of submissions keeps the event queue small.
        while atUs < end * 1_000 {
            var batch: [(atUs: UInt64, transaction: Transaction, pick: UInt64)] = []
            let secondEnd = min(atUs + 1_000_000, end * 1_000)
            while atUs < secondEnd {
                let client = sent % clients.count
                let value = String(repeating: "v", count: workload.payloadBytes)
                let payload = Array("c\(client)-\(nonces[client])=\(value)".utf8)
                batch.append((atUs, Transaction.signed(by: clients[client], networkID: genesis.networkID,
                                                       nonce: nonces[client], payload: payload), random.next()))
                nonces[client] += 1
                sent += 1
                atUs += gapUs
            }
            guard let first = batch.first else { break }
            world.schedule(atUs: first.atUs) { [self] in
                for item in batch {
                    world.schedule(atUs: item.atUs) { [self] in submit(item.transaction, pick: item.pick) }
                }
            }
        }
    }

    /// The governor's `@validators` transactions, one per listed change, in nonce order.
    private func scheduleReconfigurations(_ workload: ConsensusWorkload) {
        var random = SimRandom(seed: options.seed, stream: "consensus.governor")
        for (nonce, change) in workload.reconfigurations.enumerated() {
            let validators = change.validators.compactMap(topology.index(of:)).map { nodes[$0].spec.genesisValidator }
            let transaction = Transaction.signed(by: ConsensusWorkload.governor, networkID: genesis.networkID,
                                                 nonce: UInt64(nonce), payload: KeyValueApplication.validatorsPayload(validators))
            let pick = random.next()
            world.schedule(atUs: change.atMs * 1_000) { [self] in
                world.record("governor asks for validators \(change.validators.joined(separator: ","))")
                submit(transaction, pick: pick)
            }
        }
    }

    private func submit(_ transaction: Transaction, pick: UInt64) {
        let targets = nodes.filter { $0.isAlive && isValidator($0) && !topology.isByzantine($0.index) }
        guard !targets.isEmpty else { return }
        let sim = targets[Int(pick % UInt64(targets.count))]
        guard let node = sim.node else { return }
        consensusStats.submitted += 1
        consensusStats.submittedAtMs[transaction.hash] = world.nowMs
        spawn("\(sim.name).submit@\(world.nowUs)") { [self] in
            let admission = await node.submit(transaction)
            if case .refused = admission { consensusStats.refused += 1 }
        }
    }

    func observeConsensus(_ observation: NodeObservation, at index: Int) {
        switch observation {
        case let .committed(block, stateRoot):
            world.record("\(nodes[index].name) commit h=\(block.height) \(block.hash) root=\(stateRoot)")
            if !topology.isByzantine(index) { consensusStats.committed(block, by: index, atMs: world.nowMs) }
            for checker in checkers {
                checker.observe(.committed(node: index, block: block, stateRoot: stateRoot, atMs: world.nowMs))
            }
        case let .consensusSent(message):
            world.record("\(nodes[index].name) sent \(Self.describe(message))")
            if case let .proposal(block) = message { consensusStats.proposed(block, atMs: world.nowMs) }
            for checker in checkers { checker.observe(.consensusSent(node: index, message: message)) }
        case let .consensusMisbehaviour(validator, reason):
            world.record("\(nodes[index].name) saw validator \(validator) misbehave: \(reason)")
            if !topology.isByzantine(index) { consensusStats.misbehaviourReports += 1 }
        case let .consensusIgnored(reason):
            world.record("\(nodes[index].name) ignored: \(reason)")
        case let .epochChanged(epoch, lastHeight, validators):
            world.record("\(nodes[index].name) epoch \(epoch) after h=\(lastHeight) with \(validators) validators")
            consensusStats.epochs[index] = epoch
        case let .stateSynced(height, hash, epoch):
            world.record("\(nodes[index].name) state synced to h=\(height) \(hash) in epoch \(epoch)")
            if !topology.isByzantine(index) { consensusStats.stateSynced(node: index, height: height, atMs: world.nowMs) }
            consensusStats.epochs[index] = epoch
            for checker in checkers { checker.observe(.stateSynced(node: index, height: height, blockHash: hash)) }
        default:
            break
        }
    }
}

extension Simulation {
    /// One line per consensus message in the trace (transactions are too many to list).
    static func describe(_ message: ConsensusMessage) -> String {
        switch message {
        case let .proposal(block):
            return "proposal v=\(block.view) h=\(block.height) \(block.hash) qc=\(block.justify.view) tc=\(block.timeoutCertificate?.view ?? 0) txs=\(block.transactions.count)"
        case let .vote(vote): return "vote v=\(vote.view) \(vote.blockHash)"
        case let .timeout(timeout): return "timeout v=\(timeout.view) qc=\(timeout.highQC.view)"
        case let .transactions(batch): return "transactions \(batch.count)"
        case let .blockRequest(request): return "block-request \(request.target) above \(request.knownHeight)"
        case let .blockResponse(response): return "block-response \(response.blocks.count) blocks"
        case let .checkpointVote(vote): return "checkpoint-vote h=\(vote.checkpoint.height) \(vote.checkpoint.snapshotHash)"
        case let .snapshotRequest(request):
            return "snapshot-request h=\(request.height) chunk=\(request.chunk) above \(request.knownHeight)"
        case let .snapshotChunk(chunk):
            return "snapshot-chunk h=\(chunk.certificate.checkpoint.height) \(chunk.index + 1)/\(chunk.count) links=\(chunk.links.count)"
        case let .submission(batch): return "submission \(batch.count)"
        case let .transactionReport(report): return "transaction-report admitted=\(report.admitted) refused=\(report.refused.count)"
        }
    }
}

extension UInt64 {
    func saturatingSubtract(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
