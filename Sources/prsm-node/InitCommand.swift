import ArgumentParser
import Foundation
import PRSMNode

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a data directory: identity key (0600), config.toml with comments, genesis; a validator's key if asked.")

    @OptionGroup var directory: DataDirOption

    @Option(help: "Genesis JSON file of the network to join (default: the built-in devnet).")
    var genesis: String?

    @Option(name: .customLong("devnet-validator"),
            help: "Become devnet validator N (0-3): its public test keys (node and validator), its address 127.0.(10+N).1:7700, and a [consensus] section naming all four. Local testing only.")
    var devnetValidator: Int?

    @Flag(help: "Also create a validator's consensus key (validator.key, 0600), separate from the node's identity; genesis must name both.")
    var validator = false

    func run() throws {
        let path = directory.dataDir ?? DataDirectory.defaultPath
        let genesis = try loadGenesis()
        if let devnetValidator {
            guard self.genesis == nil, (0..<Devnet.validatorCount).contains(devnetValidator) else {
                throw ValidationError("--devnet-validator takes 0…\(Devnet.validatorCount - 1), with the built-in devnet genesis")
            }
        }
        do {
            let identity = devnetValidator.map(Devnet.nodeKey) ?? .generate()
            let validatorKey = devnetValidator.map(Devnet.validatorKey) ?? (validator ? .generate() : nil)
            let dir = try DataDirectory.initialize(at: path, genesis: genesis, identity: identity, validatorKey: validatorKey)
            let key = try dir.loadIdentity()
            print("initialised \(path)")
            print("  node id:    \(key.nodeID.hex)")
            print("  node key:   \(key.publicKey.hex)")
            print("  network:    \(genesis.name) \(genesis.networkID.hex)")
            print("  key:        \(dir.keyPath) (mode 0600; back it up, never share it)")
            if let validatorKey {
                print("  validator:  \(validatorKey.publicKey.hex)")
                print("              \(dir.validatorKeyPath) (mode 0600; back it up, never share it, never run it on two nodes)")
            }
            print("  config:     \(dir.configPath)")
            if validatorKey != nil, devnetValidator == nil {
                // The first run records the network id: the genesis naming these keys comes first.
                print("next: the network's genesis must name both public keys; copy its genesis.json to \(dir.genesisPath),")
                print("      then: prsm-node run --data-dir \(path)")
            } else {
                print("next: prsm-node run --data-dir \(path)")
            }
        } catch {
            throw Failure(error.description)
        }
        if let devnetValidator {
            try writeDevnetConfig(DataDirectory(path: path), validator: devnetValidator)
            print("  devnet validator \(devnetValidator) at \(Devnet.validatorAddress(devnetValidator))")
        }
    }

    /// A config for devnet validator `index`: its fixed address, an ephemeral local API port, and
    /// every devnet validator as a consensus peer.
    func writeDevnetConfig(_ dir: DataDirectory, validator index: Int) throws {
        let peers = (0..<Devnet.validatorCount).map { "\"\(Devnet.nodeKey($0).publicKey.hex)@\(Devnet.validatorAddress($0))\"" }
        let text = NodeConfig.template
            .replacingOccurrences(of: "listen = \"0.0.0.0:7700\"", with: "listen = \"\(Devnet.validatorAddress(index))\"")
            .replacingOccurrences(of: "roles = [\"client\"]", with: "roles = [\"validator\"]")
            .replacingOccurrences(of: "listen = \"127.0.0.1:7701\"", with: "listen = \"127.0.0.1:0\"")
            .replacingOccurrences(of: "bootstrap = []", with: "bootstrap = [\"\(Devnet.validatorAddress(0))\"]")
            + """

            [consensus]
            validator = true
            peers = [
              \(peers.joined(separator: ",\n  "))
            ]
            base_view_timeout_ms = 1000
            max_view_timeout_ms = 10000

            """
        do { try text.write(toFile: dir.configPath, atomically: true, encoding: .utf8) } catch {
            throw Failure("cannot write \(dir.configPath): \(error.localizedDescription)")
        }
    }

    func loadGenesis() throws -> Genesis {
        guard let file = genesis else { return Devnet.genesis }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure("cannot read genesis file \(file)")
        }
        do { return try Genesis.fromJSON(data) } catch { throw Failure("genesis \(file): \(error)") }
    }
}
