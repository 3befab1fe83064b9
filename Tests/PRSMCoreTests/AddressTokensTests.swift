import Testing
@testable import PRSMCore

struct AddressTokensTests {
    let secret = (0..<32).map { UInt8($0) }
    let address = PeerAddress.ipv4(127, 0, 0, 1, port: 7700)

    @Test func tokenIsSixteenBytesAndValidForTheSameAddress() {
        let tokens = AddressTokens(secret: secret, rotationMs: 1_000)
        let token = tokens.mint(for: address, nowMs: 10)
        #expect(token.count == DHTLimits.tokenSize)
        #expect(tokens.isValid(token, for: address, nowMs: 10))
        #expect(tokens.isValid(token, for: PeerAddress.ipv4(127, 0, 0, 1, port: 7700), nowMs: 999))
        // Deterministic: the same secret mints the same token.
        #expect(AddressTokens(secret: secret, rotationMs: 1_000).mint(for: address, nowMs: 10) == token)
    }

    @Test func tokenIsBoundToHostPortAndFamily() {
        let tokens = AddressTokens(secret: secret, rotationMs: 1_000)
        let token = tokens.mint(for: address, nowMs: 0)
        let others = [
            PeerAddress.ipv4(127, 0, 0, 2, port: 7700),
            PeerAddress.ipv4(127, 0, 0, 1, port: 7701),
            PeerAddress.ipv4(10, 0, 0, 1, port: 7700),
            PeerAddress(host: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 7700),
        ]
        for other in others {
            #expect(!tokens.isValid(token, for: other, nowMs: 0), "token for \(address) accepted for \(other)")
            #expect(tokens.mint(for: other, nowMs: 0) != token)
        }
    }

    @Test func validInItsEpochAndTheNextOnly() {
        let tokens = AddressTokens(secret: secret, rotationMs: 1_000)
        let first = tokens.mint(for: address, nowMs: 0)       // epoch 0
        #expect(tokens.isValid(first, for: address, nowMs: 999))
        #expect(tokens.isValid(first, for: address, nowMs: 1_000))
        #expect(tokens.isValid(first, for: address, nowMs: 1_999))
        #expect(!tokens.isValid(first, for: address, nowMs: 2_000))
        #expect(!tokens.isValid(first, for: address, nowMs: 50_000))

        let middle = tokens.mint(for: address, nowMs: 1_500)  // epoch 1
        #expect(middle != first)
        #expect(tokens.mint(for: address, nowMs: 1_000) == middle)
        #expect(tokens.isValid(middle, for: address, nowMs: 2_999))
        #expect(!tokens.isValid(middle, for: address, nowMs: 3_000))
        // A token from a later epoch is not accepted earlier.
        #expect(!tokens.isValid(middle, for: address, nowMs: 999))
    }

    @Test func defaultRotationIsFiveMinutes() {
        let tokens = AddressTokens(secret: secret)
        #expect(tokens.rotationMs == 300_000)
        let token = tokens.mint(for: address, nowMs: 0)
        #expect(tokens.isValid(token, for: address, nowMs: 599_999))
        #expect(!tokens.isValid(token, for: address, nowMs: 600_000))
    }

    @Test func differentSecretsGiveDifferentTokens() {
        let a = AddressTokens(secret: secret, rotationMs: 1_000)
        let b = AddressTokens(secret: secret.map { $0 ^ 0xff }, rotationMs: 1_000)
        let token = a.mint(for: address, nowMs: 0)
        #expect(b.mint(for: address, nowMs: 0) != token)
        #expect(!b.isValid(token, for: address, nowMs: 0))
    }

    @Test func wrongLengthOrAlteredTokensAreInvalid() {
        let tokens = AddressTokens(secret: secret, rotationMs: 1_000)
        let token = tokens.mint(for: address, nowMs: 0)
        #expect(!tokens.isValid([], for: address, nowMs: 0))
        #expect(!tokens.isValid(Array(token.prefix(15)), for: address, nowMs: 0))
        #expect(!tokens.isValid(token + [0], for: address, nowMs: 0))
        #expect(!tokens.isValid([UInt8](repeating: 0, count: DHTLimits.tokenSize), for: address, nowMs: 0))
        // Every byte takes part in the comparison.
        for index in token.indices {
            var altered = token
            altered[index] ^= 0x01
            #expect(!tokens.isValid(altered, for: address, nowMs: 0), "byte \(index) ignored")
        }
    }

    /// Pins the construction: keyed BLAKE2b, 16-byte output, over epoch u64 BE || address encoding.
    @Test func tokenIsKeyedBlake2bOfEpochAndAddressEncoding() {
        let tokens = AddressTokens(secret: secret, rotationMs: 1_000)
        let message: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 2,   // epoch 2, big-endian
                                4, 127, 0, 0, 1,          // family 4, 127.0.0.1
                                0x1e, 0x14]               // port 7700
        let expected = Blake2b.keyedHash(key: secret, message: message, outputSize: 16)
        #expect(tokens.mint(for: address, nowMs: 2_345) == expected)
    }

    @Test func constantTimeEqualCompares() {
        #expect(AddressTokens.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(AddressTokens.constantTimeEqual([], []))
        #expect(!AddressTokens.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!AddressTokens.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!AddressTokens.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test func secretMustBeThirtyTwoBytes() async {
        await #expect(processExitsWith: .failure) {
            _ = AddressTokens(secret: [UInt8](repeating: 1, count: 16))
        }
    }
}
