import CSodium

/// libsodium must be initialised once before any other call; every entry point of this module
/// goes through `Sodium.ensureReady()`, which does it exactly once (sodium_init is idempotent
/// and thread-safe, so the lazy global is enough).
enum Sodium {
    private static let initResult: Int32 = sodium_init()

    static func ensureReady() {
        precondition(initResult >= 0, "libsodium failed to initialise (sodium_init returned \(initResult))")
    }
}
