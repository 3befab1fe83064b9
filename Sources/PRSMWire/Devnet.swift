/// The built-in development network: four validators whose keys come from public seeds
/// (BLAKE2b-256 of "prsm-devnet-validator-N" for the consensus key, of "prsm-devnet-node-N" for
/// the identity of the node that runs it). Anyone can sign as them: for local testing only.
/// The nodes' keys hold the genesis balances (`prsm-node tx` signs with the node's key).
public enum Devnet {
    public static let validatorCount = 4
    public static let timeMs: UInt64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    public static let initialBalance: UInt64 = 1_000_000 * 100_000_000  // 1,000,000 FTNS each
    public static let validatorPower: UInt64 = 100

    /// Where devnet validator `index` listens (UDP and TCP): its own 127.0.(10+index).1.
    public static func validatorAddress(_ index: Int) -> String { "127.0.\(10 + index).1:7700" }

    /// Validator `index`'s consensus key.
    public static func validatorKey(_ index: Int) -> SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-devnet-validator-\(index)".utf8)).bytes)
    }

    /// The identity of the node that runs validator `index`.
    public static func nodeKey(_ index: Int) -> SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-devnet-node-\(index)".utf8)).bytes)
    }

    public static let genesis: Genesis = {
        let indices = 0..<validatorCount
        return try! Genesis(
            name: "devnet", timeMs: timeMs,
            accounts: indices.map { Genesis.Account(publicKey: nodeKey($0).publicKey, balance: initialBalance) },
            validators: indices.map {
                Genesis.Validator(publicKey: validatorKey($0).publicKey, nodeKey: nodeKey($0).publicKey, power: validatorPower)
            })
    }()
}
