/// How far the chain has got, as validators claim it (the heights of their proposals and sync
/// answers, unverified). A node believes the chain is at a height only once validators holding
/// more than f of the voting power claimed it, so at least one honest validator is there: one
/// Byzantine validator, or anyone who is not a validator, cannot make it think it is far behind
/// and send it fetching snapshots. Bounded: one entry per validator of the set it is given.
public struct ChainHeightClaims: Sendable {
    private var claims: [PublicKey: UInt64] = [:]
    /// The last answer of `credibleHeight` and the set it was for: the node asks on every turn
    /// (when it plans its next wake), while claims change only with proposals and sync answers.
    private var answered: (validators: ValidatorSet, height: UInt64)?

    public init() {}

    /// Records `height` as claimed by the node `key`; claims of nodes that run no validator are
    /// ignored.
    public mutating func note(_ height: UInt64, from key: PublicKey, validators: ValidatorSet) {
        guard validators.index(ofNode: key) != nil else { return }
        if claims[key] == nil, claims.count >= validators.count {
            // The set changed since: claims of former validators go.
            claims = claims.filter { validators.index(ofNode: $0.key) != nil }
        }
        let claimed = max(claims[key] ?? 0, height)
        guard claims[key] != claimed else { return }
        claims[key] = claimed
        answered = nil
    }

    /// The highest height that validators with more than f of the power have each claimed (0
    /// when they have not).
    public mutating func credibleHeight(validators: ValidatorSet) -> UInt64 {
        if let answered, answered.validators == validators { return answered.height }
        let claimed = validators.nodeKeys.indices.compactMap { index in
            claims[validators.nodeKeys[index]].map { (height: $0, index: index) }
        }
        var power: UInt64 = 0
        var height: UInt64 = 0
        for claim in claimed.sorted(by: { ($0.height, $1.index) > ($1.height, $0.index) }) {
            power += validators.powers[claim.index]
            if power > validators.faultTolerance {
                height = claim.height
                break
            }
        }
        answered = (validators, height)
        return height
    }
}
