import NIOCore
import PRSMNode

/// Both transport seams in the simulator: datagrams go through the simulated network and arrive
/// in this node's inbox; streams are simulated TCP connections. A `silent` node's datagrams
/// vanish here.
final class SimTransport: DatagramTransport, StreamTransport, @unchecked Sendable {
    let localAddress: PeerAddress
    let inbox = SimInbox()
    private let network: SimNetwork
    private let silent: Bool
    private let cpu: SimCPU

    init(address: PeerAddress, network: SimNetwork, silent: Bool, cpu: SimCPU) {
        localAddress = address
        self.network = network
        self.silent = silent
        self.cpu = cpu
    }

    /// Leaves when the node's CPU has finished the work charged so far (its signature).
    func send(_ bytes: ByteBuffer, to address: PeerAddress) {
        guard !silent else { return }
        network.transmit(bytes, from: localAddress, to: address, departUs: cpu.freeAtUs)
    }

    /// A busy node reads its next batch only when its CPU is free.
    func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async {
        while await cpu.waitUntilFree(), let batch = await inbox.next() {
            await handler(batch)
        }
    }

    /// Accepts streams until this node crashes or the task is cancelled.
    func serve(_ handler: @escaping @Sendable (any FramedStream) async -> Void) async {
        let cpu = cpu
        network.listen(localAddress) { stream in
            (stream as? SimStreamEnd)?.cpu = cpu
            await handler(stream)
        }
        await inbox.waitUntilClosed()
        network.unlisten(localAddress)
    }

    func withStream<Result: Sendable>(
        to address: PeerAddress, _ body: (any FramedStream) async throws -> Result
    ) async throws -> Result {
        let end = try network.connect(from: localAddress, to: address)
        end.cpu = cpu
        do {
            let result = try await body(end)
            end.close()
            return result
        } catch {
            end.close()
            throw error
        }
    }
}
