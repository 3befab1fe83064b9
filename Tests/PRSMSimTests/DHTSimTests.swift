import PRSMNode
@testable import PRSMSim
import Testing

/// Kademlia in the simulator: real joins through one seed, then puts, gets and FIND_NODE
/// lookups judged against the global view; each DHT checker is shown to fail on a broken run.
@Suite("DHT in the simulator")
struct DHTSimTests {
    static func topology(
        nodes count: Int = 40, k: Int = 8, behaviours: [String: Behaviour] = [:], nat: Set<String> = [],
        faults: [(atMs: UInt64, kind: Fault.Kind)] = [], extraMs: UInt64 = 0
    ) -> Topology {
        let names = ["seed"] + (1..<count).map { "n\($0)" }
        var topology = Topology(name: "dht-test-\(count)", nodes: names.map {
            NodeSpec(name: $0, roles: [.client], stake: 0, behaviour: behaviours[$0], keySeed: "dht-test-\($0)",
                     nat: nat.contains($0))
        })
        topology.link = LinkModel(latency: .uniform(minMs: 5, maxMs: 40))
        topology.pingIntervalMs = 0
        topology.pingAllPairs = false
        var dht = DHTWorkload(bootstrap: [0])
        dht.k = k
        dht.startSpreadMs = 5_000
        dht.opsStartMs = 20_000 + extraMs
        dht.opIntervalMs = 100
        dht.puts = 10
        dht.getsPerPut = 2
        dht.findNodes = 20
        topology.dht = dht
        topology.dhtChecks.joinGraceMs = 10_000
        topology.faults = faults.map { Fault(atMs: $0.atMs, kind: $0.kind) }
        topology.durationMs = dht.opsEndMs + 15_000
        return topology
    }

    @Test("joins build full tables; every lookup finds the true k closest and every get its value")
    func honestNetworkPasses() async throws {
        let box = SimulationBox()
        let result = try await simulate(Self.topology(), seed: 3) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        let stats = try #require(box.simulation?.dhtStats)
        #expect(stats.joined.count == 40)
        #expect(stats.stored.count == 10)
        let finds = stats.samples(of: .findNode), gets = stats.samples(of: .get)
        let exact = finds.allSatisfy { $0.succeeded }
        #expect(finds.count == 20 && exact, "\(finds.filter { !$0.succeeded }.count) inexact lookups")
        let allFound = gets.allSatisfy { $0.succeeded }
        #expect(gets.count == 20 && allFound)
        #expect(finds.allSatisfy { $0.hops <= 4 && $0.requests <= 40 })
    }

    @Test("a node that trusts hearsay holds contacts that never answered it")
    func hearsayIsCaught() async throws {
        let result = try await simulate(Self.topology(behaviours: ["n5": .dhtTrustHearsay]), seed: 3)
        let check = try #require(result.check("dht-contacts-answered"))
        #expect(!check.passed)
        #expect(check.message.contains("n5 added"), "\(check.message)")
    }

    @Test("nodes that re-store on every reply cause a store storm")
    func storeStormIsCaught() async throws {
        let names = (1..<40).map { "n\($0)" }
        let storm = Dictionary(uniqueKeysWithValues: names.map { ($0, Behaviour.dhtStoreStorm) })
        let result = try await simulate(Self.topology(behaviours: storm), seed: 3)
        let check = try #require(result.check("dht-no-store-storm"))
        #expect(!check.passed, "\(check.message)")
        let honest = try await simulate(Self.topology(), seed: 3)
        #expect(honest.check("dht-no-store-storm")?.passed == true)
    }

    @Test("nodes that ban at the first timeout ban honest peers that only crashed")
    func banningOnTimeoutsIsCaught() async throws {
        let broken = Dictionary(uniqueKeysWithValues: (1..<30).map { ("n\($0)", Behaviour.bansOnTimeout) })
        let crashes: [(atMs: UInt64, kind: Fault.Kind)] = (30..<36).flatMap {
            [(UInt64(18_000), Fault.Kind.crash(node: $0)), (UInt64(24_000), .restart(node: $0))]
        }
        let result = try await simulate(Self.topology(behaviours: broken, faults: crashes), seed: 3)
        let check = try #require(result.check("honest-peers-not-banned"))
        #expect(!check.passed, "\(check.message)")
        let crashedNamed = (30..<36).contains { check.message.contains("banned n\($0) ") }
        #expect(crashedNamed, "\(check.message)")
        // The same crashes among honest nodes: DHT requests time out and are scored, and no ban.
        let box = SimulationBox()
        let honest = try await simulate(Self.topology(faults: crashes), seed: 3) { box.simulation = $0 }
        #expect(honest.check("honest-peers-not-banned")?.passed == true, "\(honest.report)")
        let timeouts = try #require(box.simulation?.dhtStats.timeouts)
        #expect(timeouts > 0, "the crashed nodes left no DHT request unanswered")
    }

    @Test("a node cut off from everyone cannot fill its table, and the check names it")
    func isolatedNodeIsCaught() async throws {
        let others = Array(0..<39)
        let result = try await simulate(Self.topology(faults: [(1, .partition(groups: [others, [39]]))]), seed: 3)
        let check = try #require(result.check("dht-min-contacts"))
        #expect(!check.passed)
        #expect(check.message.contains("n39 has 0"), "\(check.message)")
    }

    @Test("with the seed gone for good, a restarted node rejoins from its saved address book")
    func restartRejoinsWithoutSeed() async throws {
        let box = SimulationBox()
        let topology = Self.topology(faults: [
            (12_000, .crash(node: 0)), (14_000, .crash(node: 7)), (16_000, .restart(node: 7)),
        ])
        let result = try await simulate(topology, seed: 3) { box.simulation = $0 }
        #expect(result.passed, "\(result.report)")
        let stats = try #require(box.simulation?.dhtStats)
        #expect(stats.joins[7] == 2, "n7 joined \(stats.joins[7] ?? 0) times")
        let allFound = stats.samples(of: .get).allSatisfy { $0.succeeded }
        #expect(allFound)
    }

    @Test("a node behind a NAT learns it cannot be reached, runs as a client, and stays out of every table")
    func natNodeBecomesClient() async throws {
        var topology = Self.topology(nat: ["n9"])
        topology.dht?.natMappingMs = 4_000
        topology.dht?.reachabilityCheckDelayMs = 10_000
        let box = CaptureBox()
        let end = topology.durationMs
        let result = try await simulate(topology, seed: 3) { box.capture = $0.captureDHT(atMs: end - 2) }
        #expect(result.passed, "\(result.report)")
        #expect(result.network["nat_filtered", default: 0] > 0)
        let capture = try #require(box.capture)
        #expect(capture.modes["n9"] == "client")
        #expect(capture.modes["n8"] == "server")
        let natID = topology.nodes[9].key.publicKey.nodeID
        let holders = capture.contacts.filter { $0.value.contains(natID) }.map(\.key).sorted()
        #expect(holders.isEmpty, "n9 is in the tables of \(holders)")
        #expect((capture.contacts["n9"]?.count ?? 0) >= 8, "n9 still uses the DHT as a client")
    }
}

final class CaptureBox: @unchecked Sendable {
    var capture: DHTCapture?
}

/// Lets a test keep the simulation `simulate` ran, to read its measurements afterwards.
final class SimulationBox: @unchecked Sendable {
    var simulation: Simulation?
}
