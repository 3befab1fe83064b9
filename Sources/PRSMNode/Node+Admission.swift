import NIOCore

/// A large batch of transactions from a stream, checked in slices: between two slices the
/// node's other work runs (votes, proposals, datagrams), so a flood of client transactions
/// delays a consensus message by one slice's signature checks (~3 ms), not a whole batch's
/// (~90 ms for 1,024), and the view does not time out behind it.
struct SlicedBatch {
    let transactions: [Transaction]
    /// Pass the admitted ones on to the validators (a client's, or an observer's relay).
    let gossip: Bool
    /// Answer with a TransactionReport (a Submission).
    let answer: Bool
}

extension Node {
    /// Transactions checked per actor turn.
    static let admissionSlice = 32

    /// Keeps a stream's large transaction batch for `admitInSlices` instead of checking it in
    /// this turn; false for anything else (handled as usual).
    func deferLargeBatch(_ message: ConsensusMessage, from sender: PublicKey) -> Bool {
        guard streamReplies != nil, let replica = consensus else { return false }
        switch message {
        case let .transactions(batch) where batch.count > Self.admissionSlice:
            // From a validator: its own gossip, not passed on again.
            slicedBatch = SlicedBatch(transactions: batch, gossip: replica.core.validators.index(of: sender) == nil, answer: false)
        case let .submission(batch) where batch.count > Self.admissionSlice:
            slicedBatch = SlicedBatch(transactions: batch, gossip: true, answer: true)
        default:
            return false
        }
        return true
    }

    /// Admits `batch` a slice per actor turn, yielding between slices; returns the sealed report
    /// for a Submission.
    func admitInSlices(_ batch: SlicedBatch) async -> ByteBuffer? {
        var tally = ConsensusReplica.BatchTally()
        var start = 0
        while start < batch.transactions.count {
            let slice = batch.transactions[start..<min(start + Self.admissionSlice, batch.transactions.count)]
            start = slice.endIndex
            guard let effects = withReplica({ $0.submit(slice, gossip: batch.gossip, nowMs: clock.nowMs, tally: &tally) }) else {
                break
            }
            applyConsensus(effects)
            rescheduleTick()
            if start < batch.transactions.count { await Task.yield() }
        }
        guard batch.answer else { return nil }
        let report = ConsensusMessage.transactionReport(tally.report)
        guard let bytes = seal(.consensus(report)) else { return nil }
        options.observer?(.consensusSent(report))
        return bytes
    }
}
