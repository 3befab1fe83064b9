import PRSMNode
@testable import PRSMSim
import Testing

/// The consensus engine in the simulator: honest validators agree, commit only validly signed
/// transactions, never double-vote and keep committing — with each Byzantine behaviour, across a
/// partition, through a crash and restart, and under Twins. The unsafe 1-chain rule and a
/// permanent partition show the checkers failing.
@Suite("Consensus in the simulator")
struct ConsensusSimTests {
    static func topology(
        validators: Int = 4, byzantine: Behaviour? = nil, faults: [(atMs: UInt64, kind: Fault.Kind)] = [],
        durationMs: UInt64 = 20_000, txRate: UInt64 = 40
    ) -> Topology {
        var topology = Topology(name: "consensus-test-\(validators)", nodes: (1...validators).map {
            NodeSpec(name: "v\($0)", roles: [.validator], stake: 100,
                     behaviour: $0 == validators ? byzantine : nil, keySeed: "consensus-test-v\($0)")
        })
        topology.link = LinkModel(latency: .uniform(minMs: 5, maxMs: 30))
        topology.pingIntervalMs = 0
        topology.pingAllPairs = false
        var consensus = ConsensusWorkload()
        consensus.txRate = txRate
        consensus.baseViewTimeoutMs = 500
        consensus.maxViewTimeoutMs = 4_000
        consensus.livenessBoundMs = 10_000
        topology.consensus = consensus
        topology.faults = faults.map { Fault(atMs: $0.atMs, kind: $0.kind) }
        topology.durationMs = durationMs
        return topology
    }

    static func check(_ result: SimulationResult, _ name: String) -> CheckResult? {
        result.checks.first { $0.name == name }
    }

    @Test("four honest validators commit every submitted transaction, in one order",
          .timeLimit(.minutes(2)))
    func honestValidatorsCommitEverything() async throws {
        let box = SimulationBox()
        let result = try await simulate(Self.topology(), seed: 1) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        let stats = try #require(box.simulation?.consensusStats)
        #expect(stats.submitted == 40 * 14 && stats.refused == 0)
        #expect(stats.committedTransactions == stats.submitted, "every transaction reaches every validator's log")
        #expect(stats.misbehaviourReports == 0)
        // Jitter-free enough links: proposal → commit on every validator within a few round trips.
        #expect(ConsensusStats.percentile(stats.commitLatenciesMs, 50) < 300)
    }

    @Test("one Byzantine validator of four cannot stop or fork the others",
          .timeLimit(.minutes(3)),
          arguments: [Behaviour.equivocate, .withholdVotes, .silentLeader, .garbage, .delayVotes, .replayOld])
    func oneByzantineValidator(behaviour: Behaviour) async throws {
        let box = SimulationBox()
        let result = try await simulate(Self.topology(byzantine: behaviour), seed: 2, keepTrace: true) {
            box.simulation = $0
        }
        #expect(result.passed, "\(behaviour.rawValue): \(result.report)")
        let stats = try #require(box.simulation?.consensusStats)
        #expect(stats.committedTransactions == stats.submitted, "\(behaviour.rawValue): all transactions committed")
        // The fault really fired: the Byzantine node's own sends show it.
        let sent = result.traceLines.filter { $0.contains(" v4 sent ") }
        switch behaviour {
        case .equivocate:
            let views = sent.filter { $0.contains("sent proposal") }.compactMap { $0.split(separator: " ").first { $0.hasPrefix("v=") } }
            #expect(Set(views).count < views.count, "two proposals in one view")
        case .withholdVotes, .delayVotes:
            // Withheld votes never leave; delayed ones leave late (the no-double-vote checker saw them).
            #expect(sent.contains { $0.contains("sent vote") } == (behaviour == .delayVotes))
        case .silentLeader:
            #expect(!sent.contains { $0.contains("sent proposal") })
        default:
            break
        }
    }

    @Test("3|4 partition of seven validators, then heal: the sides meet in one view and all commit again",
          .timeLimit(.minutes(3)))
    func partitionAndHeal() async throws {
        let result = try await simulate(try repositoryTopology("bft-7-partition"), seed: 1)
        #expect(result.passed, "\(result.report)")
        #expect(Self.check(result, "consensus-liveness")?.passed == true)
    }

    @Test("a crashed validator restarts from its stored chain, syncs the blocks it missed and commits again",
          .timeLimit(.minutes(2)))
    func crashedValidatorCatchesUp() async throws {
        let topology = Self.topology(faults: [(5_000, .crash(node: 1)), (10_000, .restart(node: 1))],
                                     durationMs: 25_000)
        let box = SimulationBox()
        let result = try await simulate(topology, seed: 3, keepTrace: true) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        // Commits of v2 before the crash and after the restart (trace lines start with the time in µs).
        func heights(_ range: Range<UInt64>) -> [Int] {
            result.traceLines.filter { $0.contains(" v2 commit h=") }.compactMap { line -> Int? in
                let fields = line.split(separator: " ")
                guard let time = UInt64(fields[0]), range.contains(time) else { return nil }
                return fields.first { $0.hasPrefix("h=") }.flatMap { Int($0.dropFirst(2)) }
            }
        }
        let before = try #require(heights(0..<5_000_000).max())
        let after = heights(10_000_000..<25_000_000)
        // It replays its stored chain silently, then fetches what it missed and follows the others.
        #expect(after.count > 10)
        #expect(after.max()! > before + 50, "v2 went on past height \(before)")
    }

    @Test("a validator that missed more blocks than its peers keep in memory syncs them from their stores",
          .timeLimit(.minutes(2)))
    func longAbsentValidatorSyncsFromDisk() async throws {
        var topology = Self.topology(faults: [(2_000, .crash(node: 1)), (12_000, .restart(node: 1))], durationMs: 25_000)
        topology.consensus?.retainedBlocks = 20
        let result = try await simulate(topology, seed: 5, keepTrace: true)
        #expect(result.passed, "\(result.report)")
        // It came back far behind (hundreds of blocks) and still reached the others.
        let answers = result.traceLines.filter { $0.contains(" sent block-response") }
        #expect(answers.count >= 3, "several sync rounds, answered from the stores")
    }

    @Test("Twins with the 2-chain rule: honest validators never commit conflicting blocks",
          .timeLimit(.minutes(3)))
    func twinsCannotForkTheSafeRule() async throws {
        let result = try await simulate(try repositoryTopology("twins-4"), seed: 3)
        #expect(result.passed, "\(result.report)")
    }

    @Test("Twins with the unsafe 1-chain commit rule: the agreement checker catches the fork",
          .timeLimit(.minutes(3)))
    func twinsBreakTheUnsafeRule() async throws {
        var topology = try repositoryTopology("twins-4")
        topology.consensus?.unsafeOneChainCommit = true
        // Whether a given seed forks depends on where the cuts fall and where votes go: with votes
        // to the next leader most do (10 of seeds 1-12); with votes to all, none of 1-12 did.
        topology.consensus?.voteBroadcastLimit = 0
        var verdicts: [CheckResult] = []
        for seed: UInt64 in [1, 3] {
            verdicts.append(try #require(Self.check(try await simulate(topology, seed: seed), "consensus-agreement")))
        }
        let fork = try #require(verdicts.first { !$0.passed }, "the 1-chain rule must fork under Twins: \(verdicts)")
        #expect(fork.message.contains("committed"))
    }

    @Test("a partition that never heals leaves no quorum anywhere, and the liveness check says so",
          .timeLimit(.minutes(2)))
    func permanentPartitionFailsLiveness() async throws {
        let topology = Self.topology(faults: [(3_000, .partition(groups: [[0, 1], [2, 3]]))], durationMs: 20_000)
        let result = try await simulate(topology, seed: 4)
        let liveness = try #require(Self.check(result, "consensus-liveness"))
        #expect(!liveness.passed, "\(liveness.message)")
        #expect(Self.check(result, "consensus-agreement")?.passed == true)
    }

    @Test("the validity and double-vote checkers fail on a forged transaction and a second vote")
    func checkersCatchForgeryAndDoubleVotes() throws {
        let key = try SigningKey(seed: Array(repeating: 9, count: 32))
        let good = Transaction.signed(by: key, networkID: .zero, nonce: 0, payload: Array("a=1".utf8))
        let forged = Transaction(sender: key.publicKey, nonce: 1, payload: Array("a=2".utf8), signature: good.signature)
        let block = Block(epoch: 0, view: 1, height: 1, parent: Block.genesisHash, justify: .genesis,
                          timeoutCertificate: nil, proposer: 1, transactions: [good, forged])
        let validity = ConsensusValidityChecker(networkID: .zero, byzantine: [])
        validity.observe(.committed(node: 0, block: block, stateRoot: .zero, atMs: 1))
        let simulation = Simulation(topology: Self.topology(), options: .init(seed: 1))
        #expect(!validity.verdict(simulation).passed)

        let doubleVote = DoubleVoteChecker(byzantine: [], names: ["v1", "v2"])
        let voter = SignedBy(index: 0, signature: good.signature)
        doubleVote.observe(.consensusSent(node: 0, message: .vote(Vote(epoch: 0, view: 7, blockHash: .zero, voter: voter))))
        doubleVote.observe(.consensusSent(node: 0, message: .vote(Vote(epoch: 0, view: 7, blockHash: block.hash, voter: voter))))
        #expect(!doubleVote.verdict(simulation).passed)
        // The same vote twice (a retransmission) is not a double vote.
        let again = DoubleVoteChecker(byzantine: [], names: ["v1"])
        for _ in 0..<2 {
            again.observe(.consensusSent(node: 0, message: .vote(Vote(epoch: 0, view: 7, blockHash: .zero, voter: voter))))
        }
        #expect(again.verdict(simulation).passed)
    }
}
