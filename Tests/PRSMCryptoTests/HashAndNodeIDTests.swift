import Testing
@testable import PRSMCrypto

struct HashAndNodeIDTests {
    @Test func blake2b256KnownAnswers() {
        #expect(Blake2b.hash256([UInt8]()).hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(Blake2b.hash256(Array("abc".utf8)).hex == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func nodeIDIsBlake2b256OfPublicKey() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 1, count: 32))
        #expect(key.nodeID.digest == Blake2b.hash256(key.publicKey.bytes))
    }

    @Test func xorDistanceAndCommonPrefix() throws {
        let a = NodeID(digest: try Digest32([0b1010_0000] + [UInt8](repeating: 0, count: 31)))
        let b = NodeID(digest: try Digest32([0b1000_0000] + [UInt8](repeating: 0, count: 30) + [1]))
        #expect(a.commonPrefixLength(with: b) == 2)
        #expect(a.commonPrefixLength(with: a) == 256)
        #expect(a.distance(to: b).bytes.first == 0b0010_0000)
        #expect(a.distance(to: b).bytes.last == 1)
        #expect(a.distance(to: a) == Digest32.zero)
        #expect(a.distance(to: b) == b.distance(to: a))
    }

    @Test func hexRoundTripAndRejection() throws {
        #expect(try Hex.decode("00ff10Ab") == [0, 255, 16, 171])
        #expect(throws: CryptoError.self) { try Hex.decode("abc") }
        #expect(throws: CryptoError.self) { try Hex.decode("zz") }
    }
}
