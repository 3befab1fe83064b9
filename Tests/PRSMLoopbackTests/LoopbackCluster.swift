import PRSMNode
import PRSMSim
import PRSMTransportNIO
import Synchronization
import Testing

/// A topology's nodes as real `Node` actors on loopback UDP, each on its own 127.0.(71+i).1,
/// each behind a `FaultInjectingTransport`, with the topology's faults applied to the wrappers:
/// partitions as deny lists, the link's loss and duplication (and `drop`/`duplicate` windows) as
/// every-n-th faults, clock skew on the node's clock, crash and restart on the same address.
final class LoopbackCluster: Sendable {
    let topology: Topology
    let ledger: AcceptanceLedger
    let options: Node.Options
    let addresses: [PeerAddress]
    let clocks: [SkewedClock]
    let driver: (any TaskExecutor)?

    private struct State {
        var live: [LoopbackNode?]
        /// Counts of incarnations that were stopped (a crash loses the node, not our tally).
        var retired = FaultInjectingTransport.Counts()
        var denied: [[PeerAddress]]
        var dropWindowPerMillion: UInt32 = 0
        var duplicateWindowPerMillion: UInt32 = 0
    }

    private let state: Mutex<State>

    private init(topology: Topology, options: Node.Options, ledger: AcceptanceLedger, nodes: [LoopbackNode],
                 clocks: [SkewedClock], driver: (any TaskExecutor)?) {
        self.driver = driver
        self.topology = topology
        self.options = options
        self.ledger = ledger
        self.clocks = clocks
        addresses = nodes.map(\.address)
        state = Mutex(State(live: nodes, denied: nodes.map { _ in [] }))
    }

    /// Binds and starts every node. `options` is the base every node gets (its key is set per node).
    /// `driver` runs each node's event pump (nil: the cooperative pool).
    static func start(_ topology: Topology, options: Node.Options,
                      driver: (any TaskExecutor)?) async throws -> LoopbackCluster {
        let ledger = AcceptanceLedger(toleranceMs: options.pipeline.replay.toleranceMs)
        var nodes: [LoopbackNode] = []
        var clocks: [SkewedClock] = []
        try #require(topology.nodes.count < 180, "loopback addresses 127.0.71.1 … 127.0.250.1 run out")
        for spec in topology.nodes {
            try #require(spec.behaviour == nil, "loopback runs honest nodes only (\(spec.name) is \(spec.behaviour!))")
        }
        for (index, spec) in topology.nodes.enumerated() {
            let clock = SkewedClock()
            clocks.append(clock)
            do {
                nodes.append(try await LoopbackNode(
                    index: index, name: spec.name, key: spec.key, address: .ipv4(127, 0, UInt8(71 + index), 1, port: 0),
                    options: options, clock: clock, ledger: ledger, driver: driver))
            } catch {
                for node in nodes { await node.stop() }
                throw error
            }
        }
        let cluster = LoopbackCluster(topology: topology, options: options, ledger: ledger, nodes: nodes, clocks: clocks,
                                      driver: driver)
        cluster.updateLinkFaults()
        return cluster
    }

    var liveNodes: [LoopbackNode] { state.withLock { $0.live.compactMap { $0 } } }

    func node(_ index: Int) -> LoopbackNode? { state.withLock { $0.live[index] } }

    /// What every wrapper did, over all incarnations.
    var counts: FaultInjectingTransport.Counts {
        state.withLock { state in
            state.live.compactMap { $0?.faults.counts }.reduce(state.retired) { sum, next in
                var sum = sum
                sum.deniedOutbound += next.deniedOutbound
                sum.deniedInbound += next.deniedInbound
                sum.lost += next.lost
                sum.duplicated += next.duplicated
                return sum
            }
        }
    }

    // MARK: faults

    /// Applies one fault of the timeline; `crash` and `restart` wait for the socket.
    func apply(_ kind: Fault.Kind) async throws {
        switch kind {
        case let .partition(groups): partition(groups)
        case .heal: heal()
        case let .crash(index): await crash(index)
        case let .restart(index): try await restart(index)
        case let .clockSkew(index, skewMs): clocks[index].skewMs = skewMs
        case let .drop(perMillion, _):
            state.withLock { $0.dropWindowPerMillion = perMillion }
            updateLinkFaults()
        case let .duplicate(perMillion, _):
            state.withLock { $0.duplicateWindowPerMillion = perMillion }
            updateLinkFaults()
        case .oneWay, .delay:
            Issue.record("fault \(kind) is not supported over loopback (the wrapper has no direction or timers)")
        }
    }

    func endDropWindow() {
        state.withLock { $0.dropWindowPerMillion = 0 }
        updateLinkFaults()
    }

    func endDuplicateWindow() {
        state.withLock { $0.duplicateWindowPerMillion = 0 }
        updateLinkFaults()
    }

    /// Traffic only flows within each group; nodes in no group reach each other, as in SimNetwork.
    func partition(_ groups: [[Int]]) {
        var groupOf: [Int: Int] = [:]
        for (group, members) in groups.enumerated() { for member in members { groupOf[member] = group } }
        state.withLock { state in
            for index in addresses.indices {
                let cut = addresses.indices.filter { $0 != index && groupOf[$0] != groupOf[index] }.map { addresses[$0] }
                state.denied[index] += cut
                state.live[index]?.faults.block(cut)
            }
        }
    }

    func heal() {
        state.withLock { state in
            for index in addresses.indices {
                state.denied[index] = []
                state.live[index]?.faults.heal()
            }
        }
    }

    func crash(_ index: Int) async {
        guard let node = state.withLock({ state -> LoopbackNode? in
            defer { state.live[index] = nil }
            return state.live[index]
        }) else { return }
        await node.stop()
        let counts = node.faults.counts
        state.withLock {
            $0.retired.deniedOutbound += counts.deniedOutbound
            $0.retired.deniedInbound += counts.deniedInbound
            $0.retired.lost += counts.lost
            $0.retired.duplicated += counts.duplicated
        }
    }

    /// A new incarnation with the same key on the same address and port, under the faults in force.
    func restart(_ index: Int) async throws {
        guard node(index) == nil else { return }
        let spec = topology.nodes[index]
        let node = try await LoopbackNode(index: index, name: spec.name, key: spec.key, address: addresses[index],
                                          options: options, clock: clocks[index], ledger: ledger, driver: driver)
        try #require(node.address == addresses[index])
        state.withLock { state in
            node.faults.block(state.denied[index])
            node.faults.faults = Self.faults(state, topology.link)
            state.live[index] = node
        }
    }

    func stopAll() async {
        for index in addresses.indices { await crash(index) }
    }

    private func updateLinkFaults() {
        state.withLock { state in
            let faults = Self.faults(state, topology.link)
            for node in state.live { node?.faults.faults = faults }
        }
    }

    /// The link's loss and duplication, raised by an open `drop`/`duplicate` window, as every-n-th.
    private static func faults(_ state: State, _ link: LinkModel) -> FaultInjectingTransport.Faults {
        func every(_ perMillion: UInt32) -> UInt64 { perMillion == 0 ? 0 : max(1, 1_000_000 / UInt64(perMillion)) }
        return .init(loseEvery: every(max(link.lossPerMillion, state.dropWindowPerMillion)),
                     duplicateEvery: every(max(link.duplicatePerMillion, state.duplicateWindowPerMillion)))
    }
}
