import CSodium

/// Bytes from libsodium's CSPRNG (getrandom on Linux). Only for keys and nonces of the real
/// node; simulated nodes draw from their seeded generator instead.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
