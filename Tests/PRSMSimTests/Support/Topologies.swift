import Foundation
@testable import PRSMSim

/// The repository root, found from this file (Tests/PRSMSimTests/Support/Topologies.swift).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads topologies/<name>.json from the repository.
func repositoryTopology(_ name: String) throws -> Topology {
    try TopologyLoader.load(path: repositoryRoot.appendingPathComponent("topologies/\(name).json").path)
}

/// The CPU cost model `prsm-sim run` uses by default (Simulations/costs.json).
func committedCosts() throws -> CostModel {
    try CostModel.load(path: repositoryRoot.appendingPathComponent("Simulations/costs.json").path)
}

/// A small topology built in code: one node per name (clients), a 10 ms network, pings every
/// second, no faults, and a duration just long enough for the liveness round (12 s).
func smallTopology(
    _ names: [String], behaviours: [String: Behaviour] = [:], link: LinkModel = LinkModel(),
    faults: [(atMs: UInt64, kind: Fault.Kind)] = [], maxPeers: Int = 1_024, durationMs: UInt64 = 12_000
) -> Topology {
    var topology = Topology(
        name: "test-\(names.count)", nodes: names.map {
            NodeSpec(name: $0, roles: [.client], stake: 0, behaviour: behaviours[$0], keySeed: "test-\($0)")
        })
    topology.link = link
    topology.maxPeers = maxPeers
    topology.faults = faults.map { Fault(atMs: $0.atMs, kind: $0.kind) }
    topology.durationMs = durationMs
    precondition(topology.settledAtMs + topology.pingBoundMs + 1_000 < durationMs, "too short for the liveness round")
    return topology
}
