import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The local HTTP API: GET /status (JSON) and GET /metrics (Prometheus text). It binds to a
/// loopback address, checks Host and Origin against that address (DNS rebinding), and requires
/// the data directory's token (`Authorization: Bearer …`) for every method that changes state.
public enum LocalAPI {
    /// The API listens on loopback only (checked before the node opens any socket, and again here).
    public static func checkListen(_ listen: PeerAddress) throws(NodeError) {
        guard listen.isLoopback else {
            throw .badConfig("api.listen", "\(listen) is not a loopback address; the local API must stay local")
        }
    }

    public static func makeApplication(
        node: Node, registry: PrometheusCollectorRegistry, token: String, listen: PeerAddress,
        logger: Logger, onRunning: @escaping @Sendable (PeerAddress) async -> Void = { _ in }
    ) throws(NodeError) -> some ApplicationProtocol {
        try checkListen(listen)
        let router = Router()
        router.add(middleware: LocalOnlyMiddleware(token: token))
        router.get("/status") { _, _ in await node.status() }
        // Body: the raw value (at most DHTLimits.maxValueSize bytes). Token required (not a GET).
        router.post("/dht/put") { request, context in
            let body = try await request.body.collect(upTo: DHTLimits.maxValueSize + 1)
            guard body.readableBytes <= DHTLimits.maxValueSize else {
                throw HTTPError(.contentTooLarge, message: "a DHT value is at most \(DHTLimits.maxValueSize) bytes")
            }
            guard body.readableBytes > 0 else { throw HTTPError(.badRequest, message: "empty value") }
            let result = await node.dhtPut(Array(body.readableBytesView))
            return try Self.respond(result, request, context)
        }
        router.get("/dht/get/{key}") { request, context in
            let text = context.parameters.get("key") ?? ""
            guard let bytes = try? Hex.decode(text), let key = try? Digest32(bytes) else {
                throw HTTPError(.badRequest, message: "the key is 64 hex digits (BLAKE2b-256 of the value)")
            }
            return try Self.respond(await node.dhtGet(key), request, context)
        }
        // Body: one encoded Transaction (PROTOCOL.md 15.1), signed by its sender. Token required.
        router.post("/consensus/transactions") { request, context in
            let limit = Transaction.overhead + Transaction.maxPayload
            let body = try await request.body.collect(upTo: limit + 1)
            guard body.readableBytes <= limit else {
                throw HTTPError(.contentTooLarge, message: "a transaction is at most \(limit) bytes")
            }
            var reader = WireReader(body)
            let transaction: Transaction
            do {
                transaction = try Transaction.decode(from: &reader)
                try reader.finish()
            } catch {
                throw HTTPError(.badRequest, message: "not an encoded transaction: \(error)")
            }
            let admission = await node.submit(transaction)
            var answer = TransactionResponse(hash: transaction.hash.hex, accepted: admission != .duplicate)
            var status = HTTPResponse.Status.accepted
            switch admission {
            case .accepted, .duplicate: break
            case let .refused(refusal):
                answer = TransactionResponse(hash: transaction.hash.hex, accepted: false, error: refusal.description)
                status = refusal.reason.isTemporary || refusal.reason == .notRunning ? .serviceUnavailable : .unprocessableContent
            }
            var response = try JSONEncoder().encode(answer, from: request, context: context)
            response.status = status
            return response
        }
        router.get("/consensus/nonce/{key}") { request, context in
            guard let bytes = try? Hex.decode(context.parameters.get("key") ?? ""), let key = try? PublicKey(bytes) else {
                throw HTTPError(.badRequest, message: "the key is 64 hex digits (an account's public key)")
            }
            guard let nonce = await node.nextNonce(of: key) else {
                throw HTTPError(.serviceUnavailable, message: "this node does not run consensus")
            }
            return try JSONEncoder().encode(TransactionResponse(nextNonce: nonce), from: request, context: context)
        }
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

extension LocalAPI {
    /// 200 with the result; 404 for a value nobody holds; 503 when the node cannot reach the DHT.
    static func respond(_ result: DHTResult, _ request: Request, _ context: BasicRequestContext) throws -> Response {
        let status: HTTPResponse.Status
        switch result.failure {
        case nil: status = .ok
        case .notFound?: status = .notFound
        case .tooLarge?: status = .contentTooLarge
        case .noContacts?, .notStored?, .busy?, .stopped?: status = .serviceUnavailable
        }
        var response = try JSONEncoder().encode(DHTResponse(result), from: request, context: context)
        response.status = status
        return response
    }
}

extension PeerAddress {
    public var isLoopback: Bool {
        switch host {
        case let .v4(bytes): return bytes[0] == 127
        case let .v6(bytes): return bytes == [UInt8](repeating: 0, count: 15) + [1]
        }
    }
}
