/// The built-in development network: four validators whose keys come from public seeds
/// (BLAKE2b-256 of "prsm-devnet-validator-N"). Anyone can sign as them: for local testing only.
public enum Devnet {
    public static let validatorCount = 4
    public static let timeMs: UInt64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    public static let initialBalance: UInt64 = 1_000_000 * 100_000_000  // 1,000,000 FTNS each
    public static let validatorPower: UInt64 = 100

    /// Where devnet validator `index` listens (UDP and TCP): its own 127.0.(10+index).1.
    public static func validatorAddress(_ index: Int) -> String { "127.0.\(10 + index).1:7700" }

    public static func validatorKey(_ index: Int) -> SigningKey {
        try! SigningKey(seed: Blake2b.hash256(Array("prsm-devnet-validator-\(index)".utf8)).bytes)
    }

    public static let genesis: Genesis = {
        let keys = (0..<validatorCount).map(validatorKey)
        return try! Genesis(
            name: "devnet", timeMs: timeMs,
            accounts: keys.map { Genesis.Account(publicKey: $0.publicKey, balance: initialBalance) },
            validators: keys.map { Genesis.Validator(publicKey: $0.publicKey, power: validatorPower) })
    }()
}
