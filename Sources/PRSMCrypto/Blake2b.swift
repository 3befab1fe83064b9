import CSodium

/// BLAKE2b with a 32-byte output (crypto_generichash with outlen 32, no key): a distinct
/// function from BLAKE2b-512 truncated to 32 bytes, because the output length is a parameter.
public enum Blake2b {
    public static let digestSize = 32

    public static func hash256<Bytes: ContiguousBytes>(_ input: Bytes) -> Digest32 {
        Sodium.ensureReady()
        let out = Bytes32 { out in
            input.withUnsafeBytes { raw in
                _ = crypto_generichash(out.baseAddress!.assumingMemoryBound(to: UInt8.self), digestSize,
                                       raw.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(raw.count), nil, 0)
            }
        }
        return Digest32(out)
    }

    /// Accepted key lengths for `keyedHash` (libsodium's crypto_generichash_KEYBYTES_MIN...MAX).
    public static let keySizes = 16...64
    /// Accepted output lengths for `keyedHash` (crypto_generichash_BYTES_MIN...MAX).
    public static let keyedOutputSizes = 16...64

    /// Keyed BLAKE2b (a MAC / PRF): crypto_generichash with `key` and an output of `outputSize`
    /// bytes. As with `hash256`, the output length is a parameter of the function, so a shorter
    /// output is not a prefix of a longer one. A key or output size outside 16...64 is a
    /// programmer error.
    public static func keyedHash(key: [UInt8], message: [UInt8], outputSize: Int) -> [UInt8] {
        precondition(keySizes.contains(key.count), "BLAKE2b key must be 16...64 bytes, got \(key.count)")
        precondition(keyedOutputSizes.contains(outputSize),
                     "BLAKE2b keyed output must be 16...64 bytes, got \(outputSize)")
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: outputSize)
        let result = key.withUnsafeBufferPointer { keyPtr in
            message.withUnsafeBufferPointer { messagePtr in
                crypto_generichash(&out, outputSize, messagePtr.baseAddress, UInt64(messagePtr.count),
                                   keyPtr.baseAddress, keyPtr.count)
            }
        }
        precondition(result == 0, "crypto_generichash failed (\(result))")
        return out
    }
}
