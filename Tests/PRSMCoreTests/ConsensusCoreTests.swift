import Testing
@testable import PRSMCore

struct ConsensusCoreTests {
    // MARK: Helpers

    /// The committed chains of `nodes`, cut to the shortest.
    func commonPrefix(_ network: ConsensusNetwork, _ nodes: [Int]) -> [Block] {
        let length = nodes.map { network.nodes[$0].commits.count }.min() ?? 0
        return Array(network.nodes[nodes[0]].commits.prefix(length))
    }

    func expectSameChain(_ network: ConsensusNetwork, _ nodes: [Int], atLeast count: Int,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let chain = commonPrefix(network, nodes)
        #expect(chain.count >= count, "only \(chain.count) blocks committed", sourceLocation: sourceLocation)
        for node in nodes {
            let mine = network.nodes[node].commits
            #expect(Array(mine.prefix(chain.count)).map(\.hash) == chain.map(\.hash),
                    "node \(node) committed a different chain", sourceLocation: sourceLocation)
            #expect(mine.map(\.height) == Array(1...UInt64(max(mine.count, 1))).prefix(mine.count).map { $0 },
                    "node \(node) heights are not 1, 2, 3, …", sourceLocation: sourceLocation)
        }
        #expect(network.agree(among: nodes), sourceLocation: sourceLocation)
        #expect(network.violations.isEmpty, "\(network.violations.prefix(5))", sourceLocation: sourceLocation)
    }

    func votes(in effects: [ConsensusCore.Effect]) -> [Vote] {
        effects.compactMap {
            switch $0 {
            case let .send(.vote(vote), _), let .broadcast(.vote(vote)): vote
            default: nil
            }
        }
    }

    /// A single validator-0 core next to hand-built proposals from validators 1, 2, 3.
    struct Solo {
        let validators: ValidatorSet
        let keys: [SigningKey]
        var core: ConsensusCore

        init(config: ConsensusCore.Config = .init(), safety: ConsensusCore.SafetyState = .init()) {
            (validators, keys) = consensusValidators(powers: [1, 1, 1, 1])
            core = ConsensusCore(config: config, validators: validators, key: keys[0], safety: safety)
        }

        func qc(_ block: Block, _ signers: [Int] = [1, 2, 3]) -> QuorumCertificate {
            consensusQC(for: block, signers: signers, keys: keys)
        }

        mutating func deliver(_ block: Block, nowMs: UInt64 = 0) -> [ConsensusCore.Effect] {
            core.receive(.proposal(block), from: block.proposer, nowMs: nowMs)
        }
    }

    // MARK: Happy path

    @Test(arguments: [ConsensusCore.Config.votesToNextLeader, .votesToAll])
    func fourValidatorsCommitTheSameGapFreeChain(config: ConsensusCore.Config) {
        var network = ConsensusNetwork(config: config)
        network.checkTightCommitLatency = true
        network.start()
        let result1 = network.runUntilCommitted(12, untilMs: 10_000)
        #expect(result1)
        expectSameChain(network, [0, 1, 2, 3], atLeast: 12)
        for block in commonPrefix(network, [0, 1, 2, 3]) {
            // No view is lost without faults: view == height, and the proposer is its leader.
            #expect(block.view == block.height)
            #expect(block.proposer == Int(block.view % 4))
            #expect(block.timeoutCertificate == nil)
            #expect(block.transactions == consensusTransactions(view: block.view, node: block.proposer))
            #expect(network.proposedTransactions[block.hash] == block.transactions)
        }
        #expect(network.nowMs == 0, "no timer should have fired")
        #expect(network.nodes.allSatisfy { $0.timeoutsSent.isEmpty && $0.misbehaved.isEmpty })
        #expect(network.doubleVotes().isEmpty)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64], [false, true])
    func randomDeliveryOrderStillAgrees(seed: UInt64, broadcast: Bool) {
        var network = ConsensusNetwork(config: broadcast ? .votesToAll : .votesToNextLeader, seed: seed)
        network.start()
        let result2 = network.runUntilCommitted(10, untilMs: 300_000)
        #expect(result2)
        expectSameChain(network, [0, 1, 2, 3], atLeast: 10)
        for block in commonPrefix(network, [0, 1, 2, 3]) {
            #expect(network.proposedTransactions[block.hash] == block.transactions)
        }
        #expect(network.doubleVotes().isEmpty)
    }

    // MARK: Commit latency

    /// B1 ← B2 ← B3 in consecutive views: B1 is final exactly when the QC for view 2 arrives.
    @Test func blockCommitsOnceTheNextViewIsCertifiedNotBefore() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        let first = solo.deliver(b1)
        #expect(votes(in: first).map(\.blockHash) == [b1.hash])
        #expect(!first.contains { if case .commit = $0 { true } else { false } })

        // QC for B1 (view 1) exists: not final yet.
        let b2 = consensusBlock(view: 2, parent: b1, justify: solo.qc(b1), proposer: 2)
        let second = solo.deliver(b2)
        #expect(!second.contains { if case .commit = $0 { true } else { false } })
        #expect(solo.core.committed == .genesis)
        #expect(solo.core.safety.lockedView == 0)

        // QC for B2 (view 2 = 1 + 1) exists: B1 final, B2 not.
        let b3 = consensusBlock(view: 3, parent: b2, justify: solo.qc(b2), proposer: 3)
        let third = solo.deliver(b3)
        let commits = third.compactMap { if case let .commit(block) = $0 { block } else { nil } }
        #expect(commits == [b1])
        #expect(solo.core.committed == b1)
        #expect(solo.core.safety.lockedView == 1)
    }

    /// B3 ← B5 (view 4 timed out) ← B6 ← B7: a QC for B5 does not finalise B3 (views 3, 5 are not
    /// consecutive); the QC for B6 finalises B3 and B5 together, in order.
    @Test func certifiedBlocksWithAViewGapWaitForAConsecutivePair() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        let b2 = consensusBlock(view: 2, parent: b1, justify: solo.qc(b1), proposer: 2)
        let b3 = consensusBlock(view: 3, parent: b2, justify: solo.qc(b2), proposer: 3)
        _ = solo.deliver(b1)
        _ = solo.deliver(b2)
        _ = solo.deliver(b3)
        #expect(solo.core.committed == b1)
        let tc4 = consensusTC(view: 4, signers: [1, 2, 3], highQCView: 2, keys: solo.keys)
        let b5 = consensusBlock(view: 5, parent: b3, justify: solo.qc(b3), tc: tc4, proposer: 1)
        let fifth = solo.deliver(b5)
        #expect(solo.core.committed == b2, "QC(B3) follows QC(B2) directly: B2 is final")
        #expect(votes(in: fifth).map(\.blockHash) == [b5.hash], "a proposal extending the TC's high QC gets a vote")
        let b6 = consensusBlock(view: 6, parent: b5, justify: solo.qc(b5), proposer: 2)
        let sixth = solo.deliver(b6)
        #expect(!sixth.contains { if case .commit = $0 { true } else { false } })
        #expect(solo.core.committed == b2, "QC(B5) over QC(B3) is not a 2-chain")
        let b7 = consensusBlock(view: 7, parent: b6, justify: solo.qc(b6), proposer: 3)
        let commits = solo.deliver(b7).compactMap { if case let .commit(block) = $0 { block } else { nil } }
        #expect(commits == [b3, b5])
        #expect(solo.core.committed == b5)
    }

    // MARK: Silent leader, timeouts

    @Test func silentLeaderIsSkippedByTimeoutCertificates() {
        var network = ConsensusNetwork()
        network.nodes[1].crashed = true
        network.drop = ConsensusNetwork.isolating([1])
        network.start()
        let result3 = network.runUntilCommitted(10, among: [0, 2, 3], untilMs: 200_000)
        #expect(result3)
        expectSameChain(network, [0, 2, 3], atLeast: 10)
        let chain = commonPrefix(network, [0, 2, 3])
        #expect(!chain.contains { $0.proposer == 1 })
        #expect(chain.contains { $0.timeoutCertificate != nil }, "progress continues in views entered by a TC")
        #expect(chain.last!.view > 12, "later views")
        #expect(network.nodes[0].timeoutsSent.map(\.view).prefix(3) == [1, 4, 5])
        #expect(network.doubleVotes().isEmpty)

        // View 1 (leader 1) and view 4 (its votes go to 1) and 5 (leader 1) time out; a QC resets.
        for node in [0, 2, 3] {
            let lengths = Dictionary(network.nodes[node].viewEntries.map { ($0.view, $0.timeoutMs) },
                                     uniquingKeysWith: { first, _ in first })
            #expect(lengths[1] == 1_000)
            #expect(lengths[2] == 2_000, "one timeout: doubled")
            #expect(lengths[3] == 1_000, "a QC: reset")
            #expect(lengths[4] == 1_000)
            #expect(lengths[5] == 2_000)
            #expect(lengths[6] == 4_000, "two consecutive timeouts: doubled twice")
            #expect(lengths[7] == 1_000)
        }
    }

    /// Two of four validators cut off: no TC for view 1. The stuck nodes re-send their timeout on a
    /// doubling timer capped at the maximum; once the link heals, a TC forms and a QC resets the timer.
    @Test func stuckViewResendsItsTimeoutWithCappedBackoff() {
        var config = ConsensusCore.Config.votesToNextLeader
        config.baseViewTimeoutMs = 100
        config.maxViewTimeoutMs = 300
        var network = ConsensusNetwork(config: config)
        network.drop = ConsensusNetwork.partition([[0, 3], [1, 2]])
        network.start()
        network.run(untilMs: 1_600)
        #expect(network.nodes.allSatisfy { $0.commits.isEmpty && $0.core.view == 1 })
        #expect(network.nodes[0].timeoutTimesMs == [100, 300, 600, 900, 1_200, 1_500])
        #expect(network.nodes[0].timeoutsSent.allSatisfy { $0 == network.nodes[0].timeoutsSent[0] }, "the same signed timeout")
        #expect(network.nodes[0].persisted?.highestVotedView == 1)

        network.drop = { _, _, _ in false }
        let healed = network.nowMs
        let result = network.runUntilCommitted(3, untilMs: healed + 5_000)
        #expect(result)
        let entries = network.nodes[0].viewEntries
        #expect(entries.first { $0.view == 2 }?.timeoutMs == 300, "entered by TC after many timeouts: capped")
        #expect(entries.last?.timeoutMs == 100, "progress resets the timer")
        #expect(network.violations.isEmpty, "\(network.violations.prefix(5))")
    }

    // MARK: Partition

    @Test(arguments: [ConsensusCore.Config.votesToNextLeader, .votesToAll])
    func partitionWithoutQuorumCommitsNothingAndHeals(config: ConsensusCore.Config) {
        var network = ConsensusNetwork(config: config)
        network.start()
        let result4 = network.runUntilCommitted(3, untilMs: 10_000)
        #expect(result4)
        network.drop = ConsensusNetwork.partition([[0, 1], [2, 3]])
        let cut = network.nowMs
        network.run(untilMs: cut + 5_000) // in-flight certificates settle
        let settled = network.nodes.map(\.commits.count)
        let settledQC = network.nodes.map(\.core.highQC.view).max()!
        network.run(untilMs: cut + 60_000)
        #expect(network.nodes.map(\.commits.count) == settled, "no quorum, no commits")
        #expect(network.nodes.map(\.core.highQC.view).max()! == settledQC, "no quorum, no QC")

        network.drop = { _, _, _ in false }
        let target = settled.max()! + 5
        let result5 = network.runUntilCommitted(target, untilMs: network.nowMs + 600_000)
        #expect(result5,
                "after healing the chain continues (views \(network.nodes.map(\.core.view)))")
        expectSameChain(network, [0, 1, 2, 3], atLeast: target)
        #expect(network.doubleVotes().isEmpty)
    }

    // MARK: Byzantine leader

    @Test func equivocatingLeaderIsReportedAndHonestNodesVoteOncePerView() {
        var network = ConsensusNetwork()
        // The leader of view 5 (validator 1) also sends a second, different proposal: first to
        // validators 2 and 3, and to validator 0 after the honest one.
        network.onPropose = { block in
            guard block.view == 5 else { return ([], []) }
            let evil = Block(epoch: block.epoch, view: block.view, height: block.height, parent: block.parent,
                             justify: block.justify, timeoutCertificate: block.timeoutCertificate,
                             proposer: block.proposer, transactions: [consensusTransaction(Array("double spend".utf8))])
            let packet = { (to: Int) in
                ConsensusNetwork.Packet(fromNode: nil, sender: block.proposer, to: to, message: .proposal(evil))
            }
            return ([packet(2), packet(3)], [packet(0)])
        }
        network.start()
        let result6 = network.runUntilCommitted(10, untilMs: 100_000)
        #expect(result6)
        expectSameChain(network, [0, 1, 2, 3], atLeast: 10)
        for node in [0, 2, 3] {
            #expect(network.nodes[node].misbehaved.contains { $0.validator == 1 && $0.reason.contains("two proposals") },
                    "node \(node) did not report the equivocation")
        }
        for node in network.nodes.indices {
            let perView = Dictionary(grouping: network.nodes[node].votesSent, by: \.view)
            #expect(perView.values.allSatisfy { $0.count == 1 }, "node \(node) voted twice in a view")
        }
        #expect(network.doubleVotes().isEmpty)
        // Neither view-5 proposal got a quorum (2 votes each): neither is committed.
        #expect(!commonPrefix(network, [0, 1, 2, 3]).contains { $0.view == 5 })
        // The split worked: validator 3 voted for the second proposal, validator 0 for the honest one.
        let honest = network.nodes[1].proposed.first { $0.view == 5 }!.hash
        #expect(network.nodes[3].votesSent.filter { $0.view == 5 }.map { $0.blockHash != honest } == [true])
        #expect(network.nodes[0].votesSent.filter { $0.view == 5 }.map(\.blockHash) == [honest])
    }

    /// An equivocating leader of view 1 shows validator 0 proposal A, and gets its other proposal B
    /// certified by 1, 2, 3. Validator 0 takes B when it asked for it (block sync), reports the
    /// equivocation, never votes twice in view 1, and follows the chain: the view-2 proposal that
    /// waited for B is voted for once B arrives.
    @Test func certifiedSecondProposalOfAnEquivocatorCanBeSynced() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let a = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1, transactions: [[1]])
        let b = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1, transactions: [[2]])
        let voted = votes(in: solo.deliver(a))
        #expect(voted.map(\.blockHash) == [a.hash])
        let b2 = consensusBlock(view: 2, parent: b, justify: solo.qc(b), proposer: 2)
        let missing = solo.deliver(b2)
        #expect(missing == [.missingParent(b.hash, from: 2)])
        let synced = solo.deliver(b) // the shell fetched the certified parent
        #expect(synced.contains(.misbehaved(validator: 1, "two proposals in view 1")))
        #expect(votes(in: synced).allSatisfy { $0.view != 1 }, "never a second vote in view 1")
        #expect(solo.core.block(b.hash) != nil)
        // The proposal that waited for its parent is taken as soon as the parent arrives.
        #expect(votes(in: synced).map(\.blockHash) == [b2.hash])
        #expect(solo.core.view == 2)
    }

    // MARK: Restart

    @Test func restartedNodeDoesNotVoteAgainInAView() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        let other = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1,
                                   transactions: [Array("other".utf8)])
        let effects = solo.deliver(b1)
        guard case let .persist(stored) = effects.first else {
            Issue.record("vote not preceded by persist: \(effects)")
            return
        }
        #expect(stored.highestVotedView == 1)
        #expect(votes(in: effects).count == 1)

        // Restart from what was persisted: neither the same nor another view-1 proposal gets a vote.
        var restarted = Solo(safety: stored)
        let result7 = restarted.core.start(nowMs: 10).isEmpty
        #expect(result7)
        #expect(restarted.core.view == 2)
        let result8 = votes(in: restarted.deliver(b1, nowMs: 11)).isEmpty
        #expect(result8)
        var again = Solo(safety: stored)
        _ = again.core.start(nowMs: 10)
        let result9 = votes(in: again.deliver(other, nowMs: 11)).isEmpty
        #expect(result9)

        // Control: forgetting the safety state would vote a second time in view 1.
        var amnesiac = Solo()
        _ = amnesiac.core.start(nowMs: 10)
        let result10 = votes(in: amnesiac.deliver(other, nowMs: 11)).count
        #expect(result10 == 1)
    }

    @Test func restartedNodeInANetworkRejoinsWithoutDoubleVoting() {
        var network = ConsensusNetwork()
        network.start()
        let result11 = network.runUntilCommitted(4, untilMs: 10_000)
        #expect(result11)
        // Node 2 crashes right after its last vote and comes back from its persisted state.
        network.nodes[2].crashed = true
        network.run(untilMs: network.nowMs + 3_000)
        let persisted = network.nodes[2].persisted
        #expect(persisted != nil)
        network.restart(2, safety: persisted)
        #expect(network.nodes[2].core.view == persisted!.highestVotedView + 1)
        let before = network.nodes[0].commits.count
        let result12 = network.runUntilCommitted(before + 8, among: [0, 1, 3], untilMs: network.nowMs + 200_000)
        #expect(result12)
        #expect(network.agree())
        #expect(network.violations.isEmpty, "\(network.violations.prefix(5))")
        #expect(network.doubleVotes().isEmpty)
        let perView = Dictionary(grouping: network.nodes[2].votesSent, by: \.view)
        #expect(perView.values.allSatisfy { $0.count == 1 })
    }

    // MARK: Twins

    /// Nodes 1 and 4 both hold validator 1's key. View 1: sides {1, 2, 3} | {4, 0}, each half sees
    /// its own view-1 proposal and {1, 2, 3} certify theirs. Later (timeouts, views ≥ 2):
    /// {1, 2} | {4, 3, 0}, which time out to view 3 and certify a different height-1 block.
    func twinsNetwork(unsafe: Bool, seed: UInt64?) -> ConsensusNetwork {
        var config = ConsensusCore.Config.votesToNextLeader
        config.unsafeOneChainCommit = unsafe
        var network = ConsensusNetwork(keyIndex: [0, 1, 2, 3, 1], config: config, seed: seed)
        let early = ConsensusNetwork.partition([[1, 2, 3], [4, 0]])
        let late = ConsensusNetwork.partition([[1, 2], [4, 3, 0]])
        network.drop = { from, to, message in
            switch message {
            case let .proposal(block) where block.view <= 1: return early(from, to, message)
            case let .vote(vote) where vote.view <= 1: return early(from, to, message)
            default: return late(from, to, message)
            }
        }
        network.start()
        network.run(untilMs: 60_000)
        return network
    }

    @Test func twinsBreakTheUnsafeOneChainRule() {
        let network = twinsNetwork(unsafe: true, seed: nil)
        let honest = [0, 2, 3]
        #expect(network.conflicts(among: honest) == [1], "honest nodes 2 and 0 finalise different height-1 blocks")
        let first = honest.compactMap { network.nodes[$0].commits.first }
        #expect(Set(first.map(\.hash)).count == 2)
    }

    @Test(arguments: [nil, 1, 2, 3, 4, 5, 6] as [UInt64?])
    func twinsCannotBreakTheTwoChainRule(seed: UInt64?) {
        let network = twinsNetwork(unsafe: false, seed: seed)
        let honest = [0, 2, 3]
        #expect(network.conflicts(among: honest).isEmpty)
        #expect(network.conflicts(among: [0, 1, 2, 3, 4]).isEmpty)
        #expect(network.doubleVotes(except: [1]).isEmpty)
        #expect(network.violations.isEmpty, "\(network.violations.prefix(5))")
        // Not vacuous: the {4, 3, 0} side keeps a quorum and commits.
        #expect(network.nodes[0].commits.count >= 3)
        #expect(network.nodes[2].commits.isEmpty)
    }

    @Test func twinsWithRandomOrderBreakTheUnsafeRuleToo() {
        let broken = (1...6).filter { seed in
            !twinsNetwork(unsafe: true, seed: UInt64(seed)).conflicts(among: [0, 2, 3]).isEmpty
        }
        #expect(!broken.isEmpty)
    }

    // MARK: Certificates

    @Test func proposalWithAFlippedQCSignatureIsRefused() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        _ = solo.deliver(b1)
        let good = solo.qc(b1)
        for position in good.votes.indices {
            let bad = consensusBlock(view: 2, parent: b1, justify: consensusFlipSignature(in: good, at: position),
                                     proposer: 2)
            let result13 = solo.deliver(bad)
            #expect(result13 == [.misbehaved(validator: 2, "invalid QC in proposal")])
        }
        let tooFew = consensusBlock(view: 2, parent: b1, justify: solo.qc(b1, [1, 2]), proposer: 2)
        let result14 = solo.deliver(tooFew)
        #expect(result14 == [.misbehaved(validator: 2, "invalid QC in proposal")])
        let repeated = QuorumCertificate(view: 1, blockHash: b1.hash, votes: good.votes + [good.votes[0]])
        #expect(!repeated.isValid(for: solo.validators))
        let wrongBlock = QuorumCertificate(view: 1, blockHash: Block.genesisHash, votes: good.votes)
        #expect(!wrongBlock.isValid(for: solo.validators))
        #expect(solo.core.view == 1)
        #expect(solo.core.highQC == .genesis)

        // Refusals leave no trace: the same block with the genuine QC is accepted and voted for.
        let b2 = consensusBlock(view: 2, parent: b1, justify: good, proposer: 2)
        let result15 = votes(in: solo.deliver(b2)).map(\.blockHash)
        #expect(result15 == [b2.hash])
        #expect(solo.core.highQC == good)
    }

    @Test func invalidTimeoutCertificateAndVoteSignatureAreRefused() {
        var solo = Solo()
        _ = solo.core.start(nowMs: 0)
        let b1 = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        _ = solo.deliver(b1)
        let tc = consensusTC(view: 2, signers: [1, 2], highQCView: 0, keys: solo.keys)
        let b3 = consensusBlock(view: 3, parent: .genesis, justify: .genesis, tc: tc, proposer: 3)
        let result16 = solo.deliver(b3)
        #expect(result16 == [.misbehaved(validator: 3, "invalid TC in proposal")])

        // Validator 0 collects votes for view 3: a vote signed by the wrong key is not counted.
        let b2 = consensusBlock(view: 2, parent: b1, justify: solo.qc(b1), proposer: 2)
        _ = solo.deliver(b2)
        let b3good = consensusBlock(view: 3, parent: b2, justify: solo.qc(b2), proposer: 3)
        _ = solo.deliver(b3good)
        let forged = Vote(epoch: 0, view: 3, blockHash: b3good.hash,
                          voter: SignedBy(index: 2, signature: consensusVote(for: b3good, by: 1, keys: solo.keys).voter.signature))
        let result17 = solo.core.receive(.vote(forged), from: 2, nowMs: 0)
        #expect(result17 == [.ignored("bad vote signature")])
    }

    // MARK: Quorum math

    @Test func equalPowersNeedThreeOfFour() {
        let (set, _) = consensusValidators(powers: [1, 1, 1, 1])
        #expect(set.totalPower == 4)
        #expect(set.quorumPower == 3)
        #expect(set.faultTolerance == 1)
        #expect(set.power(of: [0, 1]) < set.quorumPower)
        #expect(set.power(of: [0, 1, 3]) >= set.quorumPower)
        #expect(set.power(of: [0, 0, 0, 1]) == 2, "repeated signers count once")
        #expect(set.power(of: [0, 7, -1]) == 1, "unknown indices count nothing")
        #expect((0..<8).map { set.leader(of: UInt64($0)) } == [0, 1, 2, 3, 0, 1, 2, 3])
    }

    @Test func unequalPowers() {
        let (heavy, keys) = consensusValidators(powers: [10, 1, 1, 1])
        #expect(heavy.totalPower == 13)
        #expect(heavy.quorumPower == 9)
        #expect(heavy.power(of: [1, 2, 3]) < heavy.quorumPower, "three light validators are no quorum")
        #expect(heavy.power(of: [0]) >= heavy.quorumPower)
        let block = consensusBlock(view: 1, parent: .genesis, justify: .genesis, proposer: 1)
        #expect(consensusQC(for: block, signers: [0], keys: keys).isValid(for: heavy))
        #expect(!consensusQC(for: block, signers: [1, 2, 3], keys: keys).isValid(for: heavy))

        let (mixed, _) = consensusValidators(powers: [3, 3, 3, 1])
        #expect(mixed.quorumPower == 7)
        #expect(mixed.power(of: [0, 1]) == 6)
        #expect(mixed.power(of: [0, 1, 3]) == 7)
        #expect(mixed.faultTolerance == 3)

        let (zero, _) = consensusValidators(powers: [0, 0, 5])
        #expect(zero.powers == [1, 1, 5], "zero power counts as one")
        #expect(zero.quorumPower == 5)
    }

    @Test func anyTwoQuorumsShareMoreThanTheFaultTolerance() {
        for total in UInt64(1)...300 {
            let (set, _) = consensusValidators(powers: [total])
            #expect(set.quorumPower * 3 > total * 2, "quorum is more than 2/3 at \(total)")
            #expect(set.quorumPower <= total)
            #expect((set.quorumPower - 1) * 3 <= total * 2, "quorum is the smallest such at \(total)")
            #expect(2 * set.quorumPower >= total + set.faultTolerance + 1, "intersection at \(total)")
            #expect(set.faultTolerance * 3 < total)
        }
    }
}
