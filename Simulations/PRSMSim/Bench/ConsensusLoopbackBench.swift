import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import PRSMNode
import PRSMTransportNIO

/// `prsm-sim bench consensus-loopback`: the four devnet validators as real `prsm-node run`
/// processes on loopback (votes over UDP, blocks over TCP), loaded by clients in this process
/// that submit signed transactions in batches over TCP at a fixed rate, round-robin to the
/// validators, and resubmit what a full mempool refused. Throughput is read from a
/// validator's `/status` by the wall clock.
public struct ConsensusLoopbackBench: Sendable {
    public var nodeBinary: String
    public var txRate = 3_000
    public var durationSeconds = 10
    public var clients = 256
    public var batch = 128
    public var payloadBytes = 32
    /// A transaction refused for a reason that passes (a full mempool) is sent again this long after.
    public var retryMs = 200
    /// How long after the schedule's end resubmission and the drain may go on.
    static let drainSeconds = 30.0

    public init(nodeBinary: String) { self.nodeBinary = nodeBinary }

    public enum Failure: Error, CustomStringConvertible {
        case node(String)
        public var description: String {
            switch self { case let .node(why): return "consensus-loopback: \(why)" }
        }
    }

    struct Sample {
        let atSeconds: Double
        let height: Int
        let transactions: Int
    }

    public func run() async throws -> BenchReport {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-bench-\(UUID().uuidString)").path
        let dirs = (0..<Devnet.validatorCount).map { "\(base)/v\($0)" }
        for (index, dir) in dirs.enumerated() {
            try launch(["init", "--data-dir", dir, "--devnet-validator", "\(index)"]).waitUntilExit()
        }
        let processes = try dirs.map { try launch(["run", "--data-dir", $0, "--log-level", "warning"]) }
        defer {
            for process in processes where process.isRunning { process.terminate() }
            for process in processes { process.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: base)
        }
        for dir in dirs {
            guard await waitFor(dir + "/api.address", seconds: 20) else { throw Failure.node("\(dir) never started its API") }
        }
        let api = try String(contentsOfFile: dirs[0] + "/api.address", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard await waitForHeight(api, atLeast: 3, seconds: 30) != nil else { throw Failure.node("the devnet commits no blocks") }

        // Transactions are signed before the clock starts: the client's CPU is not the subject.
        let total = txRate * durationSeconds
        let keys = (0..<clients).map { try! SigningKey(seed: Blake2b.hash256(Array("bench-client-\($0)".utf8)).bytes) }
        let value = String(repeating: "v", count: payloadBytes)
        let transactions = (0..<total).map { index in
            Transaction.signed(by: keys[index % clients], networkID: Devnet.genesis.networkID,
                               nonce: UInt64(index / clients), payload: Array("c\(index % clients)-\(index / clients)=\(value)".utf8))
        }
        let batches = stride(from: 0, to: total, by: batch).map { Array(transactions[$0..<min(total, $0 + batch)]) }
        let streams = try await TCPStreamTransport.listen(try PeerAddress(parsing: "127.0.20.1:0"))
        let start = Date()
        let before = try await status(api)
        // One submitter per validator, each pacing its share of the batches. The committed count
        // is read the moment the last schedule ends; resubmissions may go on after it.
        let (schedulesEnded, scheduleEnded) = AsyncStream<Void>.makeStream()
        var tally = LoopbackSubmitter.Tally()
        var atEnd = before
        var sendSeconds = 0.0
        try await withThrowingTaskGroup(of: LoopbackSubmitter.Tally?.self) { group in
            for validator in 0..<Devnet.validatorCount {
                let submitter = LoopbackSubmitter(
                    batches: batches.enumerated().filter { $0.offset % Devnet.validatorCount == validator }.map(\.element),
                    start: start, gapSeconds: Double(batch * Devnet.validatorCount) / Double(txRate), retryMs: retryMs,
                    giveUpAt: start.addingTimeInterval(Double(durationSeconds) + Self.drainSeconds))
                let address = try PeerAddress(parsing: Devnet.validatorAddress(validator))
                group.addTask {
                    try await streams.withStream(to: address) { stream in
                        try await submitter.run(on: stream) { scheduleEnded.yield() }
                    }
                }
            }
            group.addTask {
                var left = Devnet.validatorCount
                for await _ in schedulesEnded {
                    left -= 1
                    if left == 0 { break }
                }
                return nil
            }
            for try await result in group {
                if let result {
                    tally.add(result)
                } else {
                    sendSeconds = Date().timeIntervalSince(start)
                    atEnd = try await status(api)
                }
            }
        }
        // Then let the pipeline drain.
        var drained = atEnd
        let drainDeadline = start.addingTimeInterval(Double(durationSeconds) + Self.drainSeconds)
        while drained.transactions - before.transactions < total, Date() < drainDeadline {
            try await Task.sleep(for: .milliseconds(200))
            drained = try await status(api)
        }
        let drainSeconds = Date().timeIntervalSince(start)
        await streams.close()
        let inWindow = atEnd.transactions - before.transactions
        let committed = drained.transactions - before.transactions
        return BenchReport(bench: "consensus-loopback", params: [
            "nodes": .int(Devnet.validatorCount), "tx_rate": .int(txRate), "duration_s": .int(durationSeconds),
            "clients": .int(clients), "batch": .int(batch), "payload_bytes": .int(payloadBytes),
            "retry_ms": .int(retryMs), "transport": .string("4 prsm-node processes on 127.0.1X.1; client submissions over TCP, round-robin"),
        ], results: [
            "submitted": .int(total),
            "committed_in_window": .int(inWindow),
            "committed_total": .int(committed),
            "committed_tx_per_s": .double(Double(inWindow) / sendSeconds),
            "committed_tx_per_s_with_drain": .double(Double(committed) / drainSeconds),
            "blocks_per_s": .double(Double(drained.height - before.height) / drainSeconds),
            "send_seconds": .double(sendSeconds), "drain_seconds": .double(drainSeconds),
            "resubmitted": .int(tally.resubmitted), "refused_for_now": .int(tally.refusedForNow),
            "refused_for_good": .int(tally.refusedForGood), "given_up": .int(tally.givenUp),
        ])
    }

    func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nodeBinary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func waitFor(_ path: String, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: path) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func waitForHeight(_ api: String, atLeast height: Int, seconds: Double) async -> Sample? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let sample = try? await status(api), sample.height >= height { return sample }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func status(_ api: String) async throws -> Sample {
        guard let url = URL(string: "http://\(api)/status") else { throw Failure.node("bad API address \(api)") }
        let (data, _) = try await URLSession.shared.data(from: url)
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let consensus = json["consensus"] as? [String: Any] else { throw Failure.node("no consensus in /status") }
        return Sample(atSeconds: Date().timeIntervalSince1970, height: consensus["committed_height"] as? Int ?? 0,
                      transactions: consensus["committed_transactions"] as? Int ?? 0)
    }
}
