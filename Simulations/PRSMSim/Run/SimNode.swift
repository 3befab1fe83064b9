import Logging
import Metrics
import PRSMNode

/// One simulated node: its identity, address and clock survive crashes; its actor, tasks and
/// memory do not.
final class SimNode: @unchecked Sendable {
    let index: Int
    let spec: NodeSpec
    let key: SigningKey
    let address: PeerAddress
    let clock: SimClock
    /// Survives crashes: only what was synced is there after one.
    let store: SimStore
    /// The node's virtual CPU; a restart starts it idle.
    var cpu: SimCPU?
    var node: Node?
    var transport: SimTransport?
    var tasks: [RootTask] = []
    var incarnation = 0
    /// Virtual time of the latest start (joins are judged only after a grace period).
    var lastStartMs: UInt64 = 0
    /// Nonce of each liveness ping this node sent → the node it pinged.
    var livenessPings: [UInt64: Int] = [:]
    var livenessAnswered = Set<Int>()

    var isAlive: Bool { node != nil }
    var name: String { spec.name }

    init(index: Int, spec: NodeSpec, clock: SimClock, store: SimStore) {
        self.index = index
        self.store = store
        self.spec = spec
        key = spec.key
        clock.skewMs = 0
        self.clock = clock
        // Every node its own 127.X.Y.1, as in loopback tests, so per-prefix limits apply.
        address = .ipv4(127, UInt8(1 + index / 250), UInt8(1 + index % 250), 1, port: 7700)
    }
}

/// A task the simulation started and must see finish, named for the deadlock report.
final class RootTask: @unchecked Sendable {
    let name: String
    var finished = false
    var task: Task<Void, Never>?

    init(name: String) { self.name = name }
}
