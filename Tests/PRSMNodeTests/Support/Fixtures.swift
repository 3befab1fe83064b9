import NIOPosix
import Foundation
import Logging
import Metrics
import NIOCore
import PRSMNode
import Testing

let quietLogger = Logger(label: "prsm.test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A node on an in-memory transport and a manual clock, not running (tests call `receive`).
struct NodeHarness {
    let identity: SigningKey
    let transport: TestTransport
    let clock: ManualClock
    let node: Node

    /// Harness nodes do not join the DHT unless a test asks: their event streams then carry only
    /// what the test caused.
    init(identity: SigningKey = .generate(), metrics: any MetricsFactory = NOOPMetricsHandler.instance,
         joinDHT: Bool = false, configure: (inout Node.Options) -> Void = { _ in }) {
        self.identity = identity
        transport = TestTransport()
        clock = ManualClock()
        var options = Node.Options(identity: identity, genesis: Devnet.genesis)
        options.joinDHT = joinDHT
        configure(&options)
        node = Node(options: options, transport: transport,
                    clock: clock, random: SystemRandomNumberGenerator(),
                    metrics: NodeMetrics(factory: metrics), logger: quietLogger,
                    executor: MultiThreadedEventLoopGroup.singleton.any().executor)
    }

    /// An envelope signed by `key` on devnet, timestamped now.
    func sealed(_ message: Message, by key: SigningKey, networkID: Digest32 = Devnet.genesis.networkID,
                sequenceOffset: UInt64 = 0) -> ByteBuffer {
        Envelope.seal(message, networkID: networkID, key: key,
                      sequence: (clock.nowMs << 16) + sequenceOffset, timestamp: clock.nowMs)
    }
}

/// Decodes a datagram the node sent, checking it is a devnet envelope signed by `sender`.
func openSent(_ bytes: ByteBuffer, from sender: PublicKey,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> Message {
    let envelope = try Envelope.parse(bytes)
    #expect(envelope.sender == sender, sourceLocation: sourceLocation)
    #expect(envelope.networkID == Devnet.genesis.networkID, sourceLocation: sourceLocation)
    #expect(envelope.hasValidSignature(in: bytes), sourceLocation: sourceLocation)
    return try Message.decode(kind: envelope.kind, payload: envelope.payload)
}

/// Runs `body` with the path of a directory that does not exist yet, removed afterwards.
func withTemporaryPath<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("prsm-node-tests-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func posixMode(_ path: String) throws -> Int {
    try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
}

/// The NodeError `body` throws, with an issue recorded when it throws none or another error.
func nodeError<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) -> NodeError? {
    do {
        _ = try body()
        Issue.record("expected a NodeError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as NodeError {
        return error
    } catch {
        Issue.record("expected a NodeError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
