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
    }

    func partition(groups: [[Int]], nodeCount: Int) {
        var groupOf: [Int: Int] = [:]
        for (index, group) in groups.enumerated() { for node in group { groupOf[node] = index } }
        for a in 0..<nodeCount {
            for b in 0..<nodeCount where a != b && groupOf[a] != groupOf[b] { blocked.insert([a, b]) }
        }
    }

    func block(from: [Int], to: [Int]) {
        for a in from { for b in to where a != b { blocked.insert([a, b]) } }
    }

    func heal() { blocked.removeAll() }

    func transmit(_ bytes: ByteBuffer, from source: PeerAddress, to destination: PeerAddress, departUs: UInt64) {
        stats.sent += 1
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
