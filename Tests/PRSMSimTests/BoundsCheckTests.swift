@testable import PRSMSim
import Testing

/// `tables-within-bounds` fails when a node's peer table outgrows the topology's bound.
@Suite("Check tables-within-bounds")
struct BoundsCheckTests {
    static let names = ["a", "b", "c", "d", "u"]

    @Test("honest nodes evict down to max_peers = 2 and pass")
    func honestNodesStayBounded() async throws {
        let result = try await simulate(smallTopology(Self.names, maxPeers: 2), seed: 1)
        let check = try #require(result.check("tables-within-bounds"))
        #expect(check.passed, "\(result.report)")
        // The bound was reached, not merely respected by tables that never grew.
        #expect(check.message.contains("largest peer table 2 (bound 2)"), "\(check.message)")
        #expect(result.passed, "\(result.report)")
    }

    @Test("a node with unbounded-tables outgrows max_peers = 2 and the check names it")
    func unboundedTablesFail() async throws {
        let topology = smallTopology(Self.names, behaviours: ["u": .unboundedTables], maxPeers: 2)
        let result = try await simulate(topology, seed: 1)
        let check = try #require(result.check("tables-within-bounds"))
        #expect(!check.passed)
        #expect(check.message.hasPrefix("u: peers table holds"), "\(check.message)")
        #expect(check.message.hasSuffix("bound 2"))
    }
}
