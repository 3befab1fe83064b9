import NIOCore
import PRSMNode

/// What a client that submitted over a simulated stream saw, for tests of the submission path.
final class SubmissionProbe: @unchecked Sendable {
    var report: TransactionReport?
    var errors: [String] = []
    /// The validator's committed transaction count, read `checkAfterMs` after the report came.
    var committedAfter: UInt64?
}

extension Simulation {
    /// At `atMs`, a client borrowing node `client`'s network endpoint opens a stream to node
    /// `validator`, sends `transactions` as one Submission sealed by `key`, and reads the report;
    /// `checkAfterMs` later it reads the validator's committed transaction count.
    func submitOverStream(_ transactions: [Transaction], by key: SigningKey, from client: String, to validator: String,
                          atMs: UInt64, checkAfterMs: UInt64) -> SubmissionProbe {
        let probe = SubmissionProbe()
        let clientIndex = topology.index(of: client)!, validatorIndex = topology.index(of: validator)!
        world.schedule(atUs: atMs * 1_000) { [self] in
            guard let transport = nodes[clientIndex].transport else { return }
            let target = nodes[validatorIndex].address
            let world = self.world
            let clock = nodes[clientIndex].clock
            let networkID = genesis.networkID
            spawn("submission.client") {
                do {
                    let frame = try await transport.withStream(to: target) { stream in
                        let nowMs = clock.nowMs
                        try await stream.send(Envelope.seal(.consensus(.submission(transactions)), networkID: networkID,
                                                            key: key, sequence: nowMs << 16, timestamp: nowMs))
                        return try await stream.receive()
                    }
                    guard let frame else { return probe.errors.append("the stream closed without a report") }
                    let envelope = try Envelope.parse(frame)
                    guard case let .consensus(.transactionReport(report)) = try Message.decode(kind: envelope.kind, payload: envelope.payload)
                    else { return probe.errors.append("not a report: kind \(envelope.kind)") }
                    probe.report = report
                    try await world.sleep(untilUs: world.nowUs + checkAfterMs * 1_000)
                    probe.committedAfter = await self.nodes[validatorIndex].node?.consensusStatus?.committedTransactions
                } catch {
                    probe.errors.append("\(error)")
                }
            }
        }
        return probe
    }
}
