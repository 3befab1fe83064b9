import ArgumentParser
import Logging
import Metrics
import NIOPosix
import PRSMNode
import PRSMTransportNIO
import Prometheus
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node until SIGINT or SIGTERM.")

    @OptionGroup var directory: DataDirOption

    @Option(help: "UDP/TCP listen address, e.g. 127.0.0.1:7700 or [::1]:7700 (overrides config).")
    var listen: String?

    @Option(name: .customLong("api-listen"), help: "Local API address, loopback only (overrides config).")
    var apiListen: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(help: "A peer to join the DHT through (repeatable; adds to dht.bootstrap in the config).")
    var bootstrap: [String] = []

    func run() async throws {
        let dir = DataDirectory(path: directory.dataDir ?? DataDirectory.defaultPath)
        let setup: (SigningKey, SigningKey?, NodeConfig, Genesis, String, DirectoryLock)
        do {
            let lock = try DirectoryLock(directory: dir)
            setup = (try dir.loadIdentity(), try dir.loadValidatorKey(), try dir.loadConfig(), try dir.loadGenesis(),
                     try dir.apiToken(), lock)
        } catch {
            throw Failure(error.description)
        }
        let (identity, validatorKey, config, genesis, token, lock) = setup
        let level = logLevel ?? config.logLevel
        guard let parsedLevel = Logger.Level(rawValue: level) else { throw ValidationError("unknown log level \(level)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsedLevel
            return handler
        }
        let logger = Logger(label: "prsm.node")
        let listenAddress = try parseAddress(listen ?? config.listen, "--listen")
        let apiAddress = try parseAddress(apiListen ?? config.apiListen, "--api-listen")

        let store: GRDBStore
        do { store = try GRDBStore(path: dir.databasePath, networkID: genesis.networkID) } catch {
            throw Failure(error.description)
        }
        let transport = try await UDPTransport.bind(listenAddress)
        let registry = PrometheusCollectorRegistry()
        var options = Node.Options(identity: identity, genesis: genesis)
        options.pipeline = config.pipelineConfig(networkID: genesis.networkID)
        options.peers.maxPeers = config.maxPeers
        options.peers.roles = (try? Roles(names: config.roles)) ?? [.client]
        options.dht = config.dhtConfig
        options.bootstrap = try config.bootstrapAddresses + bootstrap.map { try parseAddress($0, "--bootstrap") }
        do { options.consensus = try config.consensusOptions(identity: identity, validatorKey: validatorKey, genesis: genesis) } catch {
            throw Failure(error.description)
        }
        // Blocks and other large messages travel over TCP on the same port as UDP.
        let streams = options.consensus == nil ? nil : try await TCPStreamTransport.listen(transport.localAddress)
        let node = Node(options: options, transport: transport, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: logger,
                        executor: transport.eventLoop.executor, store: store, streams: streams)
        let api = try LocalAPI.makeApplication(
            node: node, registry: registry, token: token, listen: apiAddress, logger: Logger(label: "prsm.api"),
            onRunning: { bound in
                do { try dir.writeAPIAddress(bound.description) } catch {
                    logger.error("cannot record API address", metadata: ["error": "\(error)"])
                }
                logger.info("local API listening", metadata: ["api.address": "\(bound)"])
            })
        print("prsm-node \(NodeVersion.software) node \(identity.nodeID.hex) network \(genesis.name) "
              + "listening on udp://\(transport.localAddress)"
              + (streams.map { " tcp://\($0.localAddress)" } ?? "")
              + (options.consensus.map { $0.validatorKey == nil ? " (consensus observer)" : " (validator)" } ?? ""))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: NodeService(node: node, transport: transport, streams: streams)),
                           .init(service: api)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime(lock) {}
        logger.info("shut down cleanly")
    }

    func parseAddress(_ text: String, _ option: String) throws -> PeerAddress {
        do { return try PeerAddress(parsing: text) } catch { throw ValidationError("\(option): \(error)") }
    }
}

/// Runs the node as a lifecycle service; graceful shutdown closes the socket, which ends it.
struct NodeService: Service {
    let node: Node
    let transport: UDPTransport
    let streams: TCPStreamTransport?

    func run() async throws {
        await withGracefulShutdownHandler {
            await node.run()
        } onGracefulShutdown: {
            transport.shutdown()
            if let streams { Task { await streams.close() } }
        }
    }
}
