import Foundation
import NIOCore
import PRSMNode

/// One client of `bench consensus-loopback`: sends its share of the batches to one validator as
/// `submission`s over one TCP stream at their scheduled times, reads the report that answers
/// each, and resubmits what was refused for a reason that passes (a full mempool) `retryMs`
/// later, ahead of new ones (they hold the nonces later ones wait behind), as a client of a real
/// network would. While its validator refuses for such a reason it backs off (doubling pauses
/// from `retryMs` up to `maxBackoffMs`) and then sends what came due meanwhile together:
/// resubmitting at once would spend the validator's CPU on refusals.
struct LoopbackSubmitter: Sendable {
    let batches: [[Transaction]]
    let start: Date
    let gapSeconds: Double
    let retryMs: Int
    var maxBackoffMs = 3_200
    /// Resubmission stops here (the transactions still refused are counted as given up).
    let giveUpAt: Date
    let key = SigningKey.generate()

    struct Tally: Sendable {
        var resubmitted = 0
        var refusedForNow = 0
        var refusedForGood = 0
        var givenUp = 0

        mutating func add(_ other: Tally) {
            resubmitted += other.resubmitted
            refusedForNow += other.refusedForNow
            refusedForGood += other.refusedForGood
            givenUp += other.givenUp
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case noReport
        var description: String {
            "consensus-loopback: a validator closed the stream without answering a submission (it drops what fails its "
                + "checks — rate limit, replay, clock skew — unanswered, and the stream's idle timeout then closes it)"
        }
    }

    func scheduled(_ index: Int) -> Date { start.addingTimeInterval(Double(index) * gapSeconds) }

    /// Runs the schedule, then resubmits until nothing is refused or it is time to give up;
    /// `scheduleDone` is called once every scheduled batch has been sent.
    func run(on stream: any FramedStream, scheduleDone: () -> Void) async throws -> Tally {
        var tally = Tally()
        var sequence = SequenceCounter()
        var waiting: [(dueAt: Date, transaction: Transaction)] = []
        var next = 0
        var scheduleOver = false
        var backoffMs = 0
        var pauseUntil = Date.distantPast
        while !waiting.isEmpty || next < batches.count {
            if next == batches.count, !scheduleOver {
                scheduleOver = true
                scheduleDone()
            }
            if scheduleOver, Date() >= giveUpAt { break }
            let due = max(min(next < batches.count ? scheduled(next) : .distantFuture, waiting.first?.dueAt ?? .distantFuture),
                          pauseUntil)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int((wait * 1_000).rounded(.up)))) }
            let now = Date()
            // Refused ones first: they hold the lower nonces the later ones wait behind.
            let ripe = waiting.prefix { $0.dueAt <= now }.prefix(ConsensusLimits.maxGossipBatch)
            tally.resubmitted += ripe.count
            var sending = ripe.map(\.transaction)
            waiting.removeFirst(ripe.count)
            while next < batches.count, scheduled(next) <= now, sending.count + batches[next].count <= ConsensusLimits.maxGossipBatch {
                sending += batches[next]
                next += 1
            }
            guard !sending.isEmpty else { continue }
            let nowMs = UInt64(now.timeIntervalSince1970 * 1_000)
            try await stream.send(Envelope.seal(.consensus(.submission(sending)), networkID: Devnet.genesis.networkID, key: key,
                                                sequence: sequence.next(nowMs: nowMs), timestamp: nowMs))
            let report = try await nextReport(on: stream)
            let byHash = Dictionary(sending.map { ($0.hash, $0) }, uniquingKeysWith: { first, _ in first })
            let retryAt = Date().addingTimeInterval(Double(retryMs) / 1_000)
            var refusedForNow = false
            for refusal in report.refused {
                guard let transaction = byHash[refusal.hash] else { continue }
                if refusal.reason.isTemporary {
                    tally.refusedForNow += 1
                    refusedForNow = true
                    waiting.append((retryAt, transaction))
                } else {
                    tally.refusedForGood += 1
                }
            }
            backoffMs = refusedForNow ? min(max(retryMs, backoffMs * 2), maxBackoffMs) : 0
            pauseUntil = Date().addingTimeInterval(Double(backoffMs) / 1_000)
        }
        if !scheduleOver { scheduleDone() }
        tally.givenUp = waiting.count
        return tally
    }

    /// The validator's answer to the submission just sent (it sends nothing else on this stream).
    func nextReport(on stream: any FramedStream) async throws -> TransactionReport {
        guard let frame = try await stream.receive() else { throw Failure.noReport }
        let envelope = try Envelope.parse(frame)
        guard case let .consensus(.transactionReport(report)) = try Message.decode(kind: envelope.kind, payload: envelope.payload)
        else { throw Failure.noReport }
        return report
    }
}
