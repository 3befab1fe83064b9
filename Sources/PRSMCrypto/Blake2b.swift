import CSodium

/// BLAKE2b with a 32-byte output (crypto_generichash with outlen 32, no key): a distinct
/// function from BLAKE2b-512 truncated to 32 bytes, because the output length is a parameter.
public enum Blake2b {
    public static let digestSize = 32

    public static func hash256<Bytes: ContiguousBytes>(_ input: Bytes) -> Digest32 {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: digestSize)
        input.withUnsafeBytes { raw in
            _ = crypto_generichash(&out, digestSize, raw.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                   UInt64(raw.count), nil, 0)
        }
        return Digest32(unchecked: out)
    }
}
