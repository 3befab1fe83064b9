import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The local HTTP API: GET /status (JSON) and GET /metrics (Prometheus text). It binds to a
/// loopback address, checks Host and Origin against that address (DNS rebinding), and requires
/// the data directory's token (`Authorization: Bearer …`) for every method that changes state.
public enum LocalAPI {
    public static func makeApplication(
        node: Node, registry: PrometheusCollectorRegistry, token: String, listen: PeerAddress,
        logger: Logger, onRunning: @escaping @Sendable (PeerAddress) async -> Void = { _ in }
    ) throws(NodeError) -> some ApplicationProtocol {
        guard listen.isLoopback else {
            throw .badConfig("api.listen", "\(listen) is not a loopback address; the local API must stay local")
        }
        let router = Router()
        router.add(middleware: LocalOnlyMiddleware(token: token))
        router.get("/status") { _, _ in await node.status() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(listen.hostString, port: Int(listen.port)),
                                 serverName: "prsm-node"),
            onServerRunning: { channel in
                if let bound = channel.localAddress.flatMap(PeerAddress.init) { await onRunning(bound) }
            },
            logger: logger)
    }
}

extension NodeStatus: ResponseEncodable {}

extension PeerAddress {
    public var isLoopback: Bool {
        switch host {
        case let .v4(bytes): return bytes[0] == 127
        case let .v6(bytes): return bytes == [UInt8](repeating: 0, count: 15) + [1]
        }
    }
}
