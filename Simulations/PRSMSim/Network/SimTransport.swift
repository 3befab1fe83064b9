import NIOCore
import PRSMNode

/// The datagram seam in the simulator: sends go to the simulated network, deliveries come from
/// this node's inbox. A `silent` node's sends vanish here.
final class SimTransport: DatagramTransport, @unchecked Sendable {
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
}
