import ArgumentParser
import Logging
import Metrics
import NIOPosix
import PRSMNode
import PRSMTransportNIO

struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Send signed Pings to a node and verify its Pongs.")

    @Argument(help: "The node's address, e.g. 127.0.0.1:7700.")
    var address: String

    @OptionGroup var directory: DataDirOption

    @Option(help: "Local address to send from (default: any address, a free port).")
    var bind: String?

    @Option(help: "Seconds to wait for each Pong.")
    var timeout: Double = 3

    @Option(help: "Number of Pings.")
    var count: Int = 1

    func run() async throws {
        guard count > 0, timeout > 0 else { throw ValidationError("--count and --timeout must be positive") }
        let target: PeerAddress
        do { target = try PeerAddress(parsing: address) } catch { throw ValidationError("\(error)") }
        let (identity, genesis) = try loadIdentity()
        let bindText = bind ?? (target.hostBytes.count == 4 ? "0.0.0.0:0" : "[::]:0")
        let local: PeerAddress
        do { local = try PeerAddress(parsing: bindText) } catch { throw ValidationError("--bind: \(error)") }

        let transport = try await UDPTransport.bind(local)
        var options = Node.Options(identity: identity, genesis: genesis)
        options.joinDHT = false
        options.peers.pingTimeoutMs = UInt64(timeout * 1000)
        var logger = Logger(label: "prsm.ping")
        logger.logLevel = .warning
        let node = Node(options: options, transport: transport, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: logger,
                        executor: transport.eventLoop.executor)
        let failures = await withTaskGroup(of: Void.self) { group in
            group.addTask { await node.run() }
            var failures = 0
            var events = node.events.makeAsyncIterator()
            for _ in 0..<count {
                let nonce = await node.ping(target)
                while let event = await events.next() {
                    if case let .pingAnswered(reply) = event, reply.nonce == nonce {
                        print("pong from \(reply.peer.nodeID.hex) at \(reply.address): "
                              + "time=\(reply.rttMs) ms, we were seen as \(reply.observedAddress)")
                        break
                    }
                    if case let .pingTimedOut(timedOut, _) = event, timedOut == nonce {
                        failures += 1
                        let drops = await node.dropCounters
                        var hint = "is a node running there, on network \(genesis.name)?"
                        if drops[.wrongNetwork] > 0 { hint = "it answered for another network (genesis differs)" }
                        if drops[.badSignature] > 0 { hint = "its reply had a bad signature" }
                        printError("no valid Pong from \(target) within \(timeout) s: \(hint)")
                        break
                    }
                }
            }
            await transport.close()
            group.cancelAll()
            return failures
        }
        if failures > 0 { throw ExitCode(1) }
    }

    func loadIdentity() throws -> (SigningKey, Genesis) {
        guard let path = directory.dataDir else { return (.generate(), Devnet.genesis) }
        let dir = DataDirectory(path: path)
        do { return (try dir.loadIdentity(), try dir.loadGenesis()) } catch { throw Failure(error.description) }
    }
}

func printError(_ message: String) {
    var stderr = StandardError()
    print("prsm-node: \(message)", to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleWriter.write(string)
    }
}
