import Foundation
import HTTPTypes
import Hummingbird
import PRSMNode
import Prometheus
import Testing

/// A node whose metrics go to a Prometheus registry, and its local API.
struct APIHarness {
    let registry: PrometheusCollectorRegistry
    let nodeHarness: NodeHarness
    let token = "5f0c3a8e1b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60"

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        nodeHarness = NodeHarness(metrics: PrometheusMetricsFactory(registry: registry))
    }

    var node: Node { nodeHarness.node }

    func application(listen: PeerAddress = .ipv4(127, 0, 0, 1, port: 0)) throws(NodeError) -> some ApplicationProtocol {
        try LocalAPI.makeApplication(node: node, registry: registry, token: token, listen: listen, logger: quietLogger)
    }
}

extension HTTPField.Name {
    static let hostHeader = HTTPField.Name("Host")!
}

extension APIHarness {
    /// Serves the local API on 127.0.0.1 (a free port) for the duration of `body`, then stops it.
    func withLiveAPI(_ body: (LiveAPIClient) async throws -> Void) async throws {
        let (bound, announce) = AsyncStream<PeerAddress>.makeStream()
        let app = try LocalAPI.makeApplication(
            node: node, registry: registry, token: token, listen: .ipv4(127, 0, 0, 1, port: 0), logger: quietLogger,
            onRunning: { address in announce.yield(address) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var addresses = bound.makeAsyncIterator()
            guard let address = await addresses.next() else { throw NodeError.apiUnavailable("the test API never started") }
            try await body(LiveAPIClient(address: address))
            group.cancelAll()
        }
    }
}
