import NIOCore
import PRSMNode

/// The simulated wire between nodes: per-link latency from the topology's distribution plus
/// jitter (which also reorders), loss, duplication, bandwidth (serialisation delay per sender),
/// partitions (two-way or one-way) and timed drop/delay/duplicate faults. All randomness comes
/// from the run's seed, in integer arithmetic.
final class SimNetwork: @unchecked Sendable {
    struct Endpoint {
        let node: Int
        let inbox: SimInbox
    }

    struct Window {
        var perMillion: UInt32 = 0
        var extraMs: UInt64 = 0
        var untilMs: UInt64 = 0
    }

    private let world: SimWorld
    private let link: LinkModel
    private var random: SimRandom
    private var endpoints: [PeerAddress: Endpoint] = [:]
    private var nodeOfAddress: [PeerAddress: Int] = [:]
    /// Directed pairs (from, to) whose traffic is lost.
    private var blocked = Set<[Int]>()
    private var uplinkBusyUntilUs: [Int: UInt64] = [:]
    /// Nodes behind a NAT: they receive a datagram only from a node they sent to within
    /// `natMappingUs` (an endpoint-dependent filtering NAT), so nobody can reach them unsolicited.
    var natNodes = Set<Int>()
    var natMappingUs: UInt64 = 30_000_000
    /// For each NAT'd node, the nodes it may hear from, and until when.
    private var natHoles: [Int: [Int: UInt64]] = [:]
    var dropWindow = Window()
    var delayWindow = Window()
    var duplicateWindow = Window()
    private(set) var stats = Stats()

    struct Stats {
        var sent: UInt64 = 0
        var delivered: UInt64 = 0
        var lost: UInt64 = 0
        var partitioned: UInt64 = 0
        var duplicated: UInt64 = 0
        var unreachable: UInt64 = 0
        var natFiltered: UInt64 = 0
        /// Bytes handed to the network: datagrams and stream frames.
        var bytes: UInt64 = 0
    }

    init(world: SimWorld, link: LinkModel, seed: UInt64) {
        self.world = world
        self.link = link
        random = SimRandom(seed: seed, stream: "network")
    }

    func assign(_ address: PeerAddress, to node: Int) { nodeOfAddress[address] = node }

    func attach(_ address: PeerAddress, node: Int, inbox: SimInbox) {
        endpoints[address] = Endpoint(node: node, inbox: inbox)
    }

    func detach(_ address: PeerAddress) {
        endpoints[address]?.inbox.close()
        endpoints[address] = nil
        listeners[address] = nil
        if let node = nodeOfAddress[address] { resetConnections { $0.clientNode == node || $0.serverNode == node } }
    }

    // MARK: streams

    enum StreamSignal { case frame(ByteBuffer), close }

    /// Starts a task the simulation tracks (set by `Simulation`).
    var spawn: ((String, @escaping @Sendable () async -> Void) -> Void)?
    private var listeners: [PeerAddress: @Sendable (any FramedStream) async -> Void] = [:]
    private var connections: [Int: SimConnection] = [:]
    private var nextConnectionID = 0

    func listen(_ address: PeerAddress, _ handler: @escaping @Sendable (any FramedStream) async -> Void) {
        listeners[address] = handler
    }

    func unlisten(_ address: PeerAddress) { listeners[address] = nil }

    /// Opens a connection; the listener's handler runs with the server end in a tracked task.
    func connect(from source: PeerAddress, to destination: PeerAddress) throws(SimStreamError) -> SimStreamEnd {
        guard let fromNode = nodeOfAddress[source], let toNode = nodeOfAddress[destination],
              let handler = listeners[destination], !blocked.contains([fromNode, toNode]),
              !blocked.contains([toNode, fromNode]) else {
            world.record("stream refused \(source)->\(destination)")
            throw .refused(destination)
        }
        nextConnectionID += 1
        let connection = SimConnection(id: nextConnectionID, clientNode: fromNode, serverNode: toNode)
        let client = SimStreamEnd(remoteAddress: destination, fromNode: fromNode, toNode: toNode,
                                  connection: connection, network: self)
        let server = SimStreamEnd(remoteAddress: source, fromNode: toNode, toNode: fromNode,
                                  connection: connection, network: self)
        connection.client = client
        connection.server = server
        connections[connection.id] = connection
        world.record("stream open #\(connection.id) \(fromNode)->\(toNode)")
        spawn?("stream#\(connection.id).server") {
            await handler(server)
            server.close()
        }
        return client
    }

    /// Carries a frame or a close to the other end, in order, after the link's latency.
    func carry(_ signal: StreamSignal, from end: SimStreamEnd) {
        let departUs = max(world.nowUs, end.cpu?.freeAtUs ?? 0)
        let arrival = max(departUs + sampleLatencyUs(), end.lastArrivalUs + 1)
        if case let .frame(frame) = signal { stats.bytes += UInt64(frame.readableBytes) }
        end.lastArrivalUs = arrival
        world.schedule(atUs: arrival) { [self] in hand(signal, from: end) }
    }

    /// Hands a frame over once the receiving node's CPU is free (an event is re-scheduled, never
    /// a task suspended, so a run can end with frames still in flight). Later frames queue behind.
    private func hand(_ signal: StreamSignal, from end: SimStreamEnd) {
        let connection = end.connection
        // A close waits too, so it never overtakes a frame.
        if let cpu = end.peer?.cpu, cpu.freeAtUs > world.nowUs {
            world.schedule(atUs: cpu.freeAtUs) { [self] in hand(signal, from: end) }
            return
        }
        guard !connection.isReset else { return }
        if blocked.contains([end.fromNode, end.toNode]) {
            world.record("stream reset #\(connection.id) by partition")
            connection.reset()
            connections[connection.id] = nil
            return
        }
        switch signal {
        case let .frame(frame):
            world.record("stream frame #\(connection.id) \(end.fromNode)->\(end.toNode) \(frame.readableBytes)B")
            end.peer?.arrive(frame)
        case .close:
            end.peer?.arriveClose()
            if end.closedBoth || end.peer?.closedBoth ?? true { connections[connection.id] = nil }
        }
    }

    /// Resets matching connections, in connection order.
    private func resetConnections(where matches: (SimConnection) -> Bool) {
        for id in connections.keys.sorted() {
            guard let connection = connections[id], matches(connection) else { continue }
            world.record("stream reset #\(id)")
            connection.reset()
            connections[id] = nil
        }
    }

    var openConnections: Int { connections.count }

    /// Traffic flows only within each group (nodes in no group form one more group). Partitions
    /// add up until the next heal: a topology that re-splits the network heals it first.
    func partition(groups: [[Int]], nodeCount: Int) {
        var groupOf: [Int: Int] = [:]
        for (index, group) in groups.enumerated() { for node in group { groupOf[node] = index } }
        for a in 0..<nodeCount {
            for b in 0..<nodeCount where a != b && groupOf[a] != groupOf[b] { blocked.insert([a, b]) }
        }
        resetConnections { [blocked] in blocked.contains([$0.clientNode, $0.serverNode]) || blocked.contains([$0.serverNode, $0.clientNode]) }
    }

    func block(from: [Int], to: [Int]) {
        for a in from { for b in to where a != b { blocked.insert([a, b]) } }
        resetConnections { [blocked] in blocked.contains([$0.clientNode, $0.serverNode]) || blocked.contains([$0.serverNode, $0.clientNode]) }
    }

    func heal() { blocked.removeAll() }

    func transmit(_ bytes: ByteBuffer, from source: PeerAddress, to destination: PeerAddress, departUs: UInt64) {
        stats.sent += 1
        stats.bytes += UInt64(bytes.readableBytes)
        guard let fromNode = nodeOfAddress[source], let toNode = nodeOfAddress[destination] else {
            stats.unreachable += 1
            world.record("net unreachable \(source)->\(destination)")
            return
        }
        if blocked.contains([fromNode, toNode]) {
            stats.partitioned += 1
            world.record("net partitioned \(fromNode)->\(toNode)")
            return
        }
        if natNodes.contains(fromNode) { natHoles[fromNode, default: [:]][toNode] = world.nowUs + natMappingUs }
        let nowMs = world.nowMs
        let loss = max(link.lossPerMillion, nowMs < dropWindow.untilMs ? dropWindow.perMillion : 0)
        if random.chance(perMillion: loss) {
            stats.lost += 1
            world.record("net lost \(fromNode)->\(toNode)")
            return
        }
        var departUs = max(departUs, world.nowUs)
        if link.bandwidthKbps > 0 {
            let busy = max(uplinkBusyUntilUs[fromNode] ?? 0, departUs)
            departUs = busy + UInt64(bytes.readableBytes) * 8_000 / link.bandwidthKbps
            uplinkBusyUntilUs[fromNode] = departUs
        }
        let extraUs = nowMs < delayWindow.untilMs ? delayWindow.extraMs * 1_000 : 0
        schedule(bytes, from: source, to: destination, fromNode: fromNode, toNode: toNode,
                 atUs: departUs + sampleLatencyUs() + extraUs)
        let duplicate = max(link.duplicatePerMillion, nowMs < duplicateWindow.untilMs ? duplicateWindow.perMillion : 0)
        if random.chance(perMillion: duplicate) {
            stats.duplicated += 1
            schedule(bytes, from: source, to: destination, fromNode: fromNode, toNode: toNode,
                     atUs: departUs + sampleLatencyUs() + extraUs)
        }
    }

    private func schedule(_ bytes: ByteBuffer, from source: PeerAddress, to destination: PeerAddress,
                          fromNode: Int, toNode: Int, atUs time: UInt64) {
        world.schedule(atUs: time) { [self] in
            // A partition that starts while a datagram is in flight cuts it too.
            guard !blocked.contains([fromNode, toNode]), let endpoint = endpoints[destination] else {
                stats.unreachable += 1
                world.record("net lost-in-flight \(fromNode)->\(toNode)")
                return
            }
            if natNodes.contains(toNode), (natHoles[toNode]?[fromNode] ?? 0) < world.nowUs {
                stats.natFiltered += 1
                world.record("net nat-filtered \(fromNode)->\(toNode)")
                return
            }
            stats.delivered += 1
            world.record("net deliver \(fromNode)->\(toNode) \(bytes.readableBytes)B")
            _ = endpoint.inbox.push(InboundDatagram(bytes: bytes, source: source))
        }
    }

    func sampleLatencyUs() -> UInt64 {
        let base: UInt64
        switch link.latency {
        case let .fixed(ms):
            base = ms * 1_000
        case let .uniform(minMs, maxMs):
            base = minMs * 1_000 + random.below((maxMs - minMs) * 1_000 + 1)
        case let .longTail(medianMs, tailPerMillion, maxFactor):
            let median = medianMs * 1_000
            let near = median / 2 + random.below(median + 1)
            base = random.chance(perMillion: tailPerMillion) ? near * (2 + random.below(maxFactor - 1)) : near
        }
        let jitter = link.jitterMs > 0 ? random.below(link.jitterMs * 1_000 + 1) : 0
        return base + jitter
    }
}
