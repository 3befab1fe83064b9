import NIOCore

/// A large batch of client transactions from a stream (a Submission, or an observer passing on
/// its clients' transactions), checked in slices: between two slices the node's other work runs
/// (votes, proposals, datagrams, other streams), so a flood of client transactions delays those
/// by one slice's signature checks (~3 ms), not a whole batch's (~90 ms for 1,024). Validators'
/// own gossip (at most 256, and on the stream their proposals share) is checked in one turn as
/// before: slicing it would hold back the frames queued behind it on that stream.
struct SlicedBatch {
    let transactions: [Transaction]
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
        case let .transactions(batch) where batch.count > Self.admissionSlice && replica.core.validators.index(ofNode: sender) == nil:
            slicedBatch = SlicedBatch(transactions: batch, answer: false)
        case let .submission(batch) where batch.count > Self.admissionSlice:
            slicedBatch = SlicedBatch(transactions: batch, answer: true)
        default:
            return false
        }
        return true
    }

    /// Admits `batch` a slice per actor turn, yielding between slices, and passes the admitted
    /// ones on to the validators; returns the sealed report for a Submission. A node that stops
    /// meanwhile refuses the rest as not running consensus.
    func admitInSlices(_ batch: SlicedBatch) async -> ByteBuffer? {
        var tally = ConsensusReplica.BatchTally()
        var start = 0
        while start < batch.transactions.count, !Task.isCancelled {
            let slice = batch.transactions[start..<min(start + Self.admissionSlice, batch.transactions.count)]
            guard let effects = withReplica({ $0.submit(slice, gossip: true, nowMs: clock.nowMs, tally: &tally) }) else {
                break
            }
            start = slice.endIndex
            applyConsensus(effects)
            rescheduleTick()
            if start < batch.transactions.count { await Task.yield() }
        }
        tally.refused += batch.transactions[start...].map { TransactionRefusal(hash: $0.hash, reason: .notRunning) }
        return batch.answer ? sealReported(.transactionReport(tally.report)) : nil
    }
}
