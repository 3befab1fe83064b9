import Testing
@testable import PRSMCrypto

struct KeyedBlake2bTests {
    /// From the BLAKE2 reference test vectors (blake2b-kat.txt, first entry): key 0x00...0x3f,
    /// empty message, 64-byte output. Also what Python's hashlib.blake2b(b'', key=bytes(range(64))) gives.
    @Test func referenceKeyedVectorEmptyMessage() {
        let key = (0..<64).map { UInt8($0) }
        let out = Blake2b.keyedHash(key: key, message: [], outputSize: 64)
        #expect(Hex.encode(out) == "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
    }

    /// Second entry of blake2b-kat.txt: same key, message 0x00 (one byte).
    @Test func referenceKeyedVectorOneByteMessage() {
        let key = (0..<64).map { UInt8($0) }
        let out = Blake2b.keyedHash(key: key, message: [0], outputSize: 64)
        #expect(Hex.encode(out) == "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
            + "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd")
    }

    @Test func keyOutputSizeAndMessageAllMatter() {
        let key = [UInt8](repeating: 7, count: 32)
        let message = Array("address".utf8)
        let base = Blake2b.keyedHash(key: key, message: message, outputSize: 16)
        #expect(base.count == 16)
        #expect(base == Blake2b.keyedHash(key: key, message: message, outputSize: 16))
        #expect(base != Blake2b.keyedHash(key: [UInt8](repeating: 8, count: 32), message: message, outputSize: 16))
        #expect(base != Blake2b.keyedHash(key: key, message: message + [0], outputSize: 16))
        // The output length is a parameter: 16 bytes is not a prefix of the 32-byte output.
        #expect(Array(Blake2b.keyedHash(key: key, message: message, outputSize: 32).prefix(16)) != base)
        // Keyed differs from unkeyed.
        #expect(Blake2b.keyedHash(key: key, message: message, outputSize: 32) != Blake2b.hash256(message).bytes)
    }
}
