import Testing
@testable import PRSMCore

/// The chain height a node believes in: claimed by validators with more than f of the power.
struct ChainHeightClaimsTests {
    let keys = (0..<5).map { dhtTestKey($0, salt: 41).publicKey }

    func validators(_ powers: [UInt64]) -> ValidatorSet {
        ValidatorSet(epoch: 0, validators: zip(keys, powers).map { Genesis.Validator(publicKey: $0, nodeKey: $0, power: $1) })
    }

    @Test func oneValidatorsClaimIsNotEnoughWithFourEqualOnes() {
        let set = validators([1, 1, 1, 1])
        var claims = ChainHeightClaims()
        claims.note(1_000_000, from: keys[0], validators: set)
        #expect(claims.credibleHeight(validators: set) == 0, "one validator may be the Byzantine one")
        claims.note(50, from: keys[1], validators: set)
        #expect(claims.credibleHeight(validators: set) == 50, "two of four include an honest one")
        claims.note(70, from: keys[2], validators: set)
        #expect(claims.credibleHeight(validators: set) == 70)
        // Claims only grow: an older, lower answer does not take one back.
        claims.note(10, from: keys[2], validators: set)
        #expect(claims.credibleHeight(validators: set) == 70)
    }

    @Test func nonValidatorsDoNotCount() {
        let set = validators([1, 1, 1, 1])
        var claims = ChainHeightClaims()
        claims.note(900, from: keys[4], validators: set)
        claims.note(900, from: keys[4], validators: set)
        claims.note(20, from: keys[0], validators: set)
        #expect(claims.credibleHeight(validators: set) == 0)
    }

    @Test func votingPowerDecides() {
        // Power 4 of 7 alone is more than f = 2.
        let heavy = validators([4, 1, 1, 1])
        var claims = ChainHeightClaims()
        claims.note(300, from: keys[0], validators: heavy)
        #expect(claims.credibleHeight(validators: heavy) == 300)
        // With one validator the network tolerates no fault: its claim is the chain.
        let single = ValidatorSet(epoch: 0, validators: [Genesis.Validator(publicKey: keys[0], nodeKey: keys[0], power: 1)])
        var alone = ChainHeightClaims()
        alone.note(9, from: keys[0], validators: single)
        #expect(alone.credibleHeight(validators: single) == 9)
    }

    @Test func claimsOfFormerValidatorsGoWhenTheSetChanges() {
        let before = validators([1, 1, 1, 1])
        let after = ValidatorSet(epoch: 1, validators: [1, 2, 3, 4].map { Genesis.Validator(publicKey: keys[$0], nodeKey: keys[$0], power: 1) })
        var claims = ChainHeightClaims()
        for index in 0..<4 { claims.note(100, from: keys[index], validators: before) }
        claims.note(500, from: keys[4], validators: after)
        #expect(claims.credibleHeight(validators: after) == 100, "keys 1–3 are still validators")
        claims.note(500, from: keys[3], validators: after)
        #expect(claims.credibleHeight(validators: after) == 500)
    }
}
