import PRSMNode
@testable import PRSMSim
import Testing

/// Validator-set changes in the simulator: the governor adds a node that was not in genesis and
/// later removes a validator; a validator crashes and restarts in between. Every node must end
/// each epoch on the same block, the newcomer must follow the chain as an observer and then
/// vote, and the removed validator must stop voting (it goes on following the chain).
@Suite("Epochs in the simulator")
struct EpochSimTests {
    static func topology() -> Topology {
        var topology = ConsensusSimTests.topology(faults: [(9_000, .crash(node: 1)), (11_000, .restart(node: 1))],
                                                  durationMs: 26_000)
        topology.nodes.append(NodeSpec(name: "joiner", roles: [.client], stake: 100, behaviour: nil,
                                       keySeed: "consensus-test-joiner"))
        topology.consensus?.reconfigurations = [
            .init(atMs: 5_000, validators: ["v1", "v2", "v3", "v4", "joiner"]),
            .init(atMs: 13_000, validators: ["v2", "v3", "v4", "joiner"]),
        ]
        return topology
    }

    /// "<node> epoch <e> after h=<height> …" → (node, epoch, height).
    static func epochLines(_ lines: [String]) -> [(node: String, epoch: Int, height: Int)] {
        lines.compactMap { line in
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "epoch"), at >= 1, words.count > at + 3, words[at + 2] == "after",
                  let epoch = Int(words[at + 1]), let height = Int(words[at + 3].dropFirst(2)) else { return nil }
            return (String(words[at - 1]), epoch, height)
        }
    }

    @Test("a newcomer joins and a validator leaves: one boundary per epoch, the newcomer votes, the leaver only follows",
          .timeLimit(.minutes(3)))
    func addAndRemoveValidators() async throws {
        let box = SimulationBox()
        let result = try await simulate(Self.topology(), seed: 1, keepTrace: true) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        let stats = try #require(box.simulation?.consensusStats)
        #expect(stats.refused == 0)
        let lines = result.traceLines
        let changes = Self.epochLines(lines)
        // Every node saw both epochs end, each on the same block height as every other node.
        for epoch in [1, 2] {
            let seen = changes.filter { $0.epoch == epoch }
            #expect(Set(seen.map(\.node)) == ["v1", "v2", "v3", "v4", "joiner"], "epoch \(epoch): \(seen)")
            #expect(Set(seen.map(\.height)).count == 1, "epoch \(epoch) began at one height: \(seen)")
        }
        let secondBoundary = try #require(changes.first { $0.epoch == 2 }?.height)
        // The newcomer followed the chain as an observer from height 1 before it was named,
        // then voted as a validator.
        let named = try #require(lines.firstIndex { $0.contains("governor asks for validators v1,v2,v3,v4,joiner") })
        #expect(lines[..<named].contains { $0.contains(" joiner commit h=1 ") })
        #expect(Self.committedHeights(of: "joiner", Array(lines[..<named])).count > 20)
        #expect(lines.contains { $0.contains(" joiner sent vote ") })
        // The leaver never votes again; it follows the chain as an observer.
        let v1Left = try #require(lines.firstIndex { $0.contains(" v1 epoch 2 ") })
        #expect(!lines[v1Left...].contains { $0.contains(" v1 sent vote ") })
        #expect(try #require(Self.committedHeights(of: "v1", lines).max()) > secondBoundary + 10)
        // The validator that restarted in epoch 1 replayed its way back into it: its timeouts
        // carry certificates of this epoch, which the others accept.
        let restart = try #require(lines.firstIndex { $0.contains("node v2 start #2") })
        #expect(lines[restart...].contains { $0.contains(" v2 sent vote ") })
        #expect(!lines.contains { $0.contains("ignored: bad timeout") })
        // Both epochs kept committing after their start.
        #expect(try #require(Self.committedHeights(of: "v2", lines).max()) > secondBoundary + 20)
    }

    static func committedHeights(of node: String, _ lines: [String]) -> [Int] {
        lines.filter { $0.contains(" \(node) commit h=") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("h=") }.flatMap { Int($0.dropFirst(2)) }
        }
    }
}
