import NIOCore
import PRSMNode

/// The datagram seam in the simulator: sends go to the simulated network, deliveries come from
/// this node's inbox. A `silent` node's sends vanish here.
final class SimTransport: DatagramTransport, @unchecked Sendable {
    let localAddress: PeerAddress
    let inbox = SimInbox()
    private let network: SimNetwork
    private let silent: Bool

    init(address: PeerAddress, network: SimNetwork, silent: Bool) {
        localAddress = address
        self.network = network
        self.silent = silent
    }

    func send(_ bytes: ByteBuffer, to address: PeerAddress) {
        guard !silent else { return }
        network.transmit(bytes, from: localAddress, to: address)
    }

    func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async {
        while let batch = await inbox.next() {
            await handler(batch)
        }
    }
}
