import ArgumentParser
import Foundation
import PRSMNode

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a data directory: identity key (0600), config.toml with comments, genesis.")

    @OptionGroup var directory: DataDirOption

    @Option(help: "Genesis JSON file of the network to join (default: the built-in devnet).")
    var genesis: String?

    func run() throws {
        let path = directory.dataDir ?? DataDirectory.defaultPath
        let genesis = try loadGenesis()
        do {
            let dir = try DataDirectory.initialize(at: path, genesis: genesis, identity: .generate())
            let key = try dir.loadIdentity()
            print("initialised \(path)")
            print("  node id:    \(key.nodeID.hex)")
            print("  network:    \(genesis.name) \(genesis.networkID.hex)")
            print("  key:        \(dir.keyPath) (mode 0600; back it up, never share it)")
            print("  config:     \(dir.configPath)")
            print("next: prsm-node run --data-dir \(path)")
        } catch {
            throw Failure(error.description)
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
