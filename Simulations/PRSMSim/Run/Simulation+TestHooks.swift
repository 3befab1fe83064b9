import NIOCore
import PRSMNode
/// Hooks that let PRSMSimTests break a run on purpose, so every checker can be shown to fail.
/// Kept out of Simulation.swift; they use only internal members.
extension Simulation {
    /// From the start of the run, node `name`'s inbox ignores `close()`: at shutdown its
    /// `<name>#<incarnation>.run` task stays suspended on a continuation nobody resumes, which
    /// `no-deadlock` must report by name. Call before `run()`; affects the first incarnation only.
    func strandInboxAtShutdown(of name: String) {
        guard let index = topology.index(of: name) else { preconditionFailure("no node named \(name)") }
        world.schedule(atUs: 0) { [self] in nodes[index].transport?.inbox.ignoresClose = true }
    }
}

/// What a stream probe saw, for tests of simulated streams.
final class StreamProbe: @unchecked Sendable {
    var echoed: [Int] = []
    var errors: [String] = []
    var refused = 0
}

extension Simulation {
    /// Node `server` echoes frames on streams; at `atMs`, node `client` opens a stream, sends
    /// `sizes` frames (one every `gapMs`) and records what comes back and how it ended.
    func probeStreams(server: String, client: String, atMs: UInt64, sizes: [Int], gapMs: UInt64) -> StreamProbe {
        let probe = StreamProbe()
        let serverIndex = topology.index(of: server)!, clientIndex = topology.index(of: client)!
        world.schedule(atUs: 1) { [self] in
            guard let transport = nodes[serverIndex].transport else { return }
            spawn("probe.serve") {
                await transport.serve { stream in
                    while let frame = try? await stream.receive() { try? await stream.send(frame) }
                }
            }
        }
        world.schedule(atUs: atMs * 1_000) { [self] in
            guard let transport = nodes[clientIndex].transport else { return }
            let target = nodes[serverIndex].address
            let world = self.world
            spawn("probe.client") {
                do {
                    try await transport.withStream(to: target) { stream in
                        for size in sizes {
                            try await stream.send(ByteBuffer(bytes: [UInt8](repeating: 7, count: size)))
                            guard let back = try await stream.receive() else { break }
                            probe.echoed.append(back.readableBytes)
                            try await world.sleep(untilUs: world.nowUs + gapMs * 1_000)
                        }
                    }
                } catch SimStreamError.refused {
                    probe.refused += 1
                } catch {
                    probe.errors.append("\(error)")
                }
            }
        }
        return probe
    }
}

/// Every live node's DHT mode and routing-table contacts at one instant.
final class DHTCapture: @unchecked Sendable {
    var modes: [String: String] = [:]
    var contacts: [String: [NodeID]] = [:]
}

extension Simulation {
    /// At `atMs`, records each live node's DHT status mode and the ids in its routing table.
    func captureDHT(atMs: UInt64) -> DHTCapture {
        let capture = DHTCapture()
        world.schedule(atUs: atMs * 1_000) { [self] in
            for sim in nodes where sim.isAlive {
                guard let node = sim.node else { continue }
                spawn("capture.\(sim.name)") {
                    capture.modes[sim.name] = await node.dhtStatus().mode
                    capture.contacts[sim.name] = await node.dhtContacts.map(\.id)
                }
            }
        }
        return capture
    }
}
