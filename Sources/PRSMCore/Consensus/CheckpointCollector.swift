import DequeModule

/// Gathers validators' checkpoint votes into certificates. A vote counts only if it signs
/// exactly the checkpoint this node computed itself (so a certificate formed here also vouches
/// for our own snapshot), and each signature is checked once. Votes for a checkpoint we have not
/// reached yet wait, bounded, until we do.
public struct CheckpointCollector: Sendable {
    struct Pending: Sendable {
        let checkpoint: Checkpoint
        let validators: ValidatorSet
        /// The set that runs after the checkpoint, when it is an epoch's last block.
        let next: ValidatorSet?
        var votes: [Int: Signature] = [:]
        var certified = false
    }

    /// Our own checkpoints still collecting (the newest few).
    private var pending: [Pending] = []
    private var early = Deque<(vote: CheckpointVote, sender: PublicKey)>()
    public private(set) var signaturesChecked: UInt64 = 0

    static let maxPending = 3
    static let maxEarly = 2 * ConsensusLimits.maxValidators

    public init() {}

    /// Our checkpoint (with our own vote, if we are a validator of its epoch). Returns the
    /// certificate if the votes already held make a quorum.
    mutating func add(_ checkpoint: Checkpoint, validators: ValidatorSet, next: ValidatorSet?, own: SignedBy?)
        -> (CheckpointCertificate, next: ValidatorSet?)? {
        pending.append(Pending(checkpoint: checkpoint, validators: validators, next: next))
        if pending.count > Self.maxPending { pending.removeFirst() }
        var certificate: (CheckpointCertificate, next: ValidatorSet?)?
        if let own { certificate = record(own, for: pending.count - 1) }
        let waiting = early.filter { $0.vote.checkpoint.height == checkpoint.height && $0.vote.checkpoint.epoch == checkpoint.epoch }
        early.removeAll { $0.vote.checkpoint.height <= checkpoint.height }
        for entry in waiting {
            if let formed = receive(entry.vote, from: entry.sender).certificate { certificate = formed }
        }
        return certificate
    }

    /// A peer's vote: the certificate when it completes a quorum, or why it was not counted.
    mutating func receive(_ vote: CheckpointVote, from sender: PublicKey)
        -> (certificate: (CheckpointCertificate, next: ValidatorSet?)?, refusal: String?) {
        guard let slot = pending.lastIndex(where: {
            $0.checkpoint.height == vote.checkpoint.height && $0.checkpoint.epoch == vote.checkpoint.epoch
        }) else {
            // Not reached yet: keep it for when we get there (older ones are useless).
            if vote.checkpoint.height > (pending.last?.checkpoint.height ?? 0) {
                early.append((vote, sender))
                if early.count > Self.maxEarly { early.removeFirst() }
            }
            return (nil, nil)
        }
        let entry = pending[slot]
        guard entry.validators.keys.indices.contains(vote.voter.index), entry.validators.nodeKeys[vote.voter.index] == sender else {
            return (nil, "checkpoint vote from a node that does not run the validator it names")
        }
        guard entry.votes[vote.voter.index] == nil, !entry.certified else { return (nil, nil) }
        guard vote.checkpoint == entry.checkpoint else {
            return (nil, "checkpoint at \(vote.checkpoint.height) differs from ours: a different snapshot or block")
        }
        signaturesChecked += 1
        guard entry.validators.keys[vote.voter.index].isValidSignature(vote.voter.signature, for: entry.checkpoint.signingBytes) else {
            return (nil, "bad checkpoint vote signature")
        }
        return (record(vote.voter, for: slot), nil)
    }

    private mutating func record(_ signer: SignedBy, for slot: Int) -> (CheckpointCertificate, next: ValidatorSet?)? {
        pending[slot].votes[signer.index] = signer.signature
        let entry = pending[slot]
        guard !entry.certified, entry.validators.power(of: entry.votes.keys) >= entry.validators.quorumPower else { return nil }
        pending[slot].certified = true
        let votes = entry.votes.map { SignedBy(index: $0.key, signature: $0.value) }
        return (CheckpointCertificate(checkpoint: entry.checkpoint, votes: votes), entry.next)
    }
}
