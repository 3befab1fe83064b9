import Testing
@testable import PRSMCrypto

struct SignatureTests {
    // RFC 8032 section 7.1, tests 1–3: (secret seed, public key, message, signature).
    static let rfc8032: [(String, String, String, String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: 0..<3)
    func rfc8032Vector(index: Int) throws {
        let (seed, publicHex, messageHex, signatureHex) = Self.rfc8032[index]
        let key = try SigningKey(seed: try Hex.decode(seed))
        #expect(key.publicKey.hex == publicHex)
        let message = try Hex.decode(messageHex)
        let signature = key.sign(message)
        #expect(signature.hex == signatureHex)
        #expect(key.publicKey.isValidSignature(signature, for: message))
    }

    @Test func tamperedMessageSignatureOrKeyIsRejected() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let message = Array("transfer 10 FTNS".utf8)
        let signature = key.sign(message)
        var flippedMessage = message
        flippedMessage[3] ^= 1
        #expect(!key.publicKey.isValidSignature(signature, for: flippedMessage))
        var flippedSignature = signature.bytes
        flippedSignature[40] ^= 0x80
        #expect(!key.publicKey.isValidSignature(try Signature(flippedSignature), for: message))
        let other = SigningKey.generate()
        #expect(!other.publicKey.isValidSignature(signature, for: message))
    }

    @Test func nonCanonicalSIsRejected() throws {
        // S + L (the group order) verifies under lax rules; libsodium requires S < L.
        let key = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
        let message = Array("m".utf8)
        var bytes = key.sign(message).bytes
        let order: [UInt8] = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
                              0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
        var carry = 0
        for i in 0..<32 {
            let sum = Int(bytes[32 + i]) + Int(order[i]) + carry
            bytes[32 + i] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        #expect(!key.publicKey.isValidSignature(try Signature(bytes), for: message))
    }

    @Test func smallOrderPublicKeyIsRejected() throws {
        // The identity point: every "signature" with R = identity, S = 0 would verify under lax rules.
        let identity = try PublicKey([1] + [UInt8](repeating: 0, count: 31))
        let forged = try Signature([1] + [UInt8](repeating: 0, count: 63))
        #expect(!identity.isValidSignature(forged, for: Array("anything".utf8)))
    }

    @Test func generatedKeysDiffer() {
        #expect(SigningKey.generate().publicKey != SigningKey.generate().publicKey)
    }
}
