import Foundation

/// A node's data directory: identity key, a validator's consensus key, config, genesis, API
/// token, lock, node.sqlite.
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// $PRSM_HOME, else ~/.prsm.
    public static var defaultPath: String {
        if let home = ProcessInfo.processInfo.environment["PRSM_HOME"], !home.isEmpty { return home }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".prsm").path
    }

    public var keyPath: String { file("node.key") }
    /// A validator's consensus key (only on a validator's node): separate from the node's
    /// identity, so either can be replaced without the other.
    public var validatorKeyPath: String { file("validator.key") }
    public var configPath: String { file("config.toml") }
    public var genesisPath: String { file("genesis.json") }
    public var tokenPath: String { file("api.token") }
    public var lockPath: String { file("node.lock") }
    public var databasePath: String { file("node.sqlite") }
    /// Written by `run` with the API's actual address, read by `status`.
    public var apiAddressPath: String { file("api.address") }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: keyPath) }

    /// Creates the directory (0700), identity key, the validator's key if given, default config
    /// and genesis. Refuses to touch a directory that already has an identity.
    public static func initialize(at path: String, genesis: Genesis, identity: SigningKey,
                                  validatorKey: SigningKey? = nil) throws(NodeError) -> DataDirectory {
        let directory = DataDirectory(path: path)
        // Both key files are checked before either is written, so a refusal leaves nothing behind.
        guard !directory.isInitialized, validatorKey == nil || !FileManager.default.fileExists(atPath: directory.validatorKeyPath)
        else { throw .alreadyInitialized(path) }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try KeyFile.write(identity, to: directory.keyPath)
            if let validatorKey { try KeyFile.write(validatorKey, to: directory.validatorKeyPath) }
            if !FileManager.default.fileExists(atPath: directory.configPath) {
                try Data(NodeConfig.template.utf8).write(to: URL(fileURLWithPath: directory.configPath))
            }
            try genesis.jsonData().write(to: URL(fileURLWithPath: directory.genesisPath))
        } catch let error as CryptoError {
            if case .keyFileExists = error { throw .alreadyInitialized(path) }
            throw .io(path, error.description)
        } catch {
            throw .io(path, "\(error)")
        }
        return directory
    }

    public func loadIdentity() throws(NodeError) -> SigningKey {
        guard isInitialized else { throw .notInitialized(path) }
        do { return try KeyFile.read(from: keyPath) } catch { throw .io(keyPath, error.description) }
    }

    /// The validator's consensus key, nil when this directory has none (an observer's or a
    /// client's node).
    public func loadValidatorKey() throws(NodeError) -> SigningKey? {
        guard FileManager.default.fileExists(atPath: validatorKeyPath) else { return nil }
        do { return try KeyFile.read(from: validatorKeyPath) } catch { throw .io(validatorKeyPath, error.description) }
    }

    public func loadConfig() throws(NodeError) -> NodeConfig {
        guard let data = FileManager.default.contents(atPath: configPath) else { return NodeConfig() }
        return try NodeConfig.parse(String(decoding: data, as: UTF8.self), path: configPath)
    }

    public func loadGenesis() throws(NodeError) -> Genesis {
        guard let data = FileManager.default.contents(atPath: genesisPath) else {
            throw .badGenesis(genesisPath, "missing; copy the network's genesis.json here or re-run init")
        }
        do { return try Genesis.fromJSON(data) } catch { throw .badGenesis(genesisPath, error.description) }
    }

    /// The API token (created on first use, mode 0600). State-changing API routes require it.
    public func apiToken() throws(NodeError) -> String {
        if !FileManager.default.fileExists(atPath: tokenPath) {
            do {
                try PrivateFile.create(tokenPath, contents: Array((Hex.encode(SecureRandom.bytes(32)) + "\n").utf8))
            } catch .keyFileExists {
                // Another process created it first: read theirs.
            } catch {
                throw .io(tokenPath, error.description)
            }
        }
        let token: String
        do {
            token = try PrivateFile.read(tokenPath).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch { throw .io(tokenPath, error.description) }
        // An empty token would make "Bearer " a valid credential.
        guard !token.isEmpty else { throw .io(tokenPath, "the API token file is empty; delete it and restart the node") }
        return token
    }

    public func writeAPIAddress(_ address: String) throws(NodeError) {
        do { try Data((address + "\n").utf8).write(to: URL(fileURLWithPath: apiAddressPath), options: .atomic) } catch {
            throw .io(apiAddressPath, "\(error)")
        }
    }

    public func readAPIAddress() throws(NodeError) -> String {
        guard let data = FileManager.default.contents(atPath: apiAddressPath) else {
            throw .apiUnavailable("\(apiAddressPath) not found")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
