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

        // Every check of the configuration comes before a socket is opened: a refused
        // configuration must end the process with its message, not with an open transport.
        let store: GRDBStore
        let consensus: ConsensusOptions?
        do {
            try LocalAPI.checkListen(apiAddress)
            store = try GRDBStore(path: dir.databasePath, networkID: genesis.networkID)
            consensus = try config.consensusOptions(identity: identity, validatorKey: validatorKey, genesis: genesis,
                                                    storedChain: Node.holdsChain(store))
        } catch {
            throw Failure(String(describing: error))
        }
        let bootstrapAddresses = try config.bootstrapAddresses + bootstrap.map { try parseAddress($0, "--bootstrap") }
        let transport = try await UDPTransport.bind(listenAddress)
        let registry = PrometheusCollectorRegistry()
        var options = Node.Options(identity: identity, genesis: genesis)
        options.pipeline = config.pipelineConfig(networkID: genesis.networkID)
        options.peers.maxPeers = config.maxPeers
        options.peers.maxSavedPeers = config.maxSavedPeers
        options.peers.roles = (try? Roles(names: config.roles)) ?? [.client]
        options.dht = config.dhtConfig
        options.bootstrap = bootstrapAddresses
        options.consensus = consensus
        // Blocks and other large messages travel over TCP on the same port as UDP. The UDP
        // socket is open by now: a failure from here on closes it before the process ends.
        let streams = try await closing(transport, nil) {
            consensus == nil ? nil : try await TCPStreamTransport.listen(transport.localAddress)
        }
        let node = Node(options: options, transport: transport, clock: SystemClock(), random: SystemRandom(),
                        metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)), logger: logger,
                        executor: transport.eventLoop.executor, store: store, streams: streams)
        let api = try await closing(transport, streams) {
            try LocalAPI.makeApplication(
                node: node, registry: registry, token: token, listen: apiAddress, logger: Logger(label: "prsm.api"),
                onRunning: { bound in
                    do { try dir.writeAPIAddress(bound.description) } catch {
                        logger.error("cannot record API address", metadata: ["error": "\(error)"])
                    }
                    logger.info("local API listening", metadata: ["api.address": "\(bound)"])
                })
        }
        print("prsm-node \(NodeVersion.software) node \(identity.nodeID.hex) network \(genesis.name) "
              + "listening on udp://\(transport.localAddress)"
              + (streams.map { " tcp://\($0.localAddress)" } ?? "")
              + (options.consensus.map { consensus in
                  consensus.validatorKey.map { " (validator \($0.publicKey.hex.prefix(16))…)" } ?? " (consensus observer)"
              } ?? ""))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: NodeService(node: node, transport: transport, streams: streams)),
                           .init(service: api)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime(lock) {}
        logger.info("shut down cleanly")
    }

    /// `body`'s result; when it throws, the open sockets are closed first (a transport dropped
    /// without being closed is a crash, not an error message).
    func closing<T>(_ transport: UDPTransport, _ streams: TCPStreamTransport?, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            await streams?.close()
            await transport.close()
            throw error
        }
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
