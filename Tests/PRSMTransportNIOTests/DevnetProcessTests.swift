import Foundation
import PRSMNode
import Testing

/// The four-validator devnet as four `prsm-node run` processes on loopback (votes over UDP,
/// blocks and sync over TCP): blocks commit and a transaction reaches every log; with one
/// validator killed the other three keep committing; restarted, it catches up. A node that
/// starts after the validators pruned the chain's start begins from a certified snapshot.
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
        let stateSyncs: Int
    }

    static func consensus(_ dir: String) -> Consensus? {
        guard let status = try? NodeProcess.run(["status", "--data-dir", dir, "--json"], timeout: 10),
              status.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
              let consensus = json["consensus"] as? [String: Any] else { return nil }
        return Consensus(height: consensus["committed_height"] as? Int ?? 0,
                         transactions: consensus["committed_transactions"] as? Int ?? 0,
                         stateRoot: consensus["state_root"] as? String ?? "",
                         stateSyncs: consensus["state_syncs"] as? Int ?? 0)
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
        let dirs = try Self.initDevnet(in: NodeProcess.temporaryDirectory())
        var processes = try Self.startDevnet(dirs)
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

    /// Validators checkpoint every 20 heights and keep only 20 blocks, so an observer that starts
    /// 70 heights late cannot fetch the chain from height 1: it downloads the newest certified
    /// snapshot (state sync), then follows by block sync, with the state of the pruned heights.
    @Test func aLateObserverStartsFromACertifiedSnapshot() throws {
        let base = NodeProcess.temporaryDirectory()
        let observer = "\(base)/observer"
        let tuning = "keep_blocks = 20\nsnapshot_interval = 20\n"
        let dirs = try Self.initDevnet(in: base, config: tuning)
        let initialized = try NodeProcess.run(["init", "--data-dir", observer])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        // A devnet variant whose genesis certifies a checkpoint every 20 heights (a network
        // parameter), as an operator's own testnet would ship it in every genesis.json.
        var parameters = Devnet.genesis.parameters
        parameters.checkpointInterval = 20
        let genesis = try Genesis(name: "devnet", timeMs: Devnet.genesis.timeMs, parameters: parameters,
                                  accounts: Devnet.genesis.accounts, validators: Devnet.genesis.validators)
        for dir in dirs + [observer] {
            try genesis.jsonData().write(to: URL(fileURLWithPath: dir + "/genesis.json"))
        }
        let peers = (0..<4).map { "\"\(Devnet.nodeKey($0).publicKey.hex)@\(Devnet.validatorAddress($0))\"" }
        try Self.append("\n[consensus]\nvalidator = false\npeers = [\(peers.joined(separator: ", "))]\n" + tuning,
                        toConfigOf: observer)

        var processes = try Self.startDevnet(dirs)
        defer { for process in processes where process.isRunning { NodeProcess.stop(process) } }
        #expect(Self.eventually(dirs, within: 30) { $0.height >= 3 }, "the devnet commits blocks")
        let submitted = try NodeProcess.run(["tx", "set", "greeting", "hello late node", "--data-dir", dirs[0]])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(Self.eventually(dirs, within: 30) { $0.transactions >= 1 }, "the transaction commits")
        try #require(Self.eventually(dirs, within: 90) { $0.height >= 70 }, "the devnet reaches height 70")

        processes.append(try NodeProcess.start(dataDir: observer, listen: "127.0.14.1:7700"))
        let target = dirs.compactMap { Self.consensus($0)?.height }.max() ?? 0
        let caughtUp = Self.eventually([observer], within: 60) { $0.height >= target }
        let late = Self.consensus(observer)
        #expect(caughtUp, "the observer reaches height \(target): \(late.map { "at \($0.height)" } ?? "no status")")
        #expect((late?.stateSyncs ?? 0) >= 1, "the observer started from a snapshot, not from height 1")
        // The transaction committed at a pruned height reached the observer through the
        // snapshot: its state holds the sender's next nonce.
        let sender = Devnet.nodeKey(0).publicKey.hex
        let nonce = try NodeProcess.run(["tx", "nonce", "--account", sender, "--data-dir", observer])
        #expect(nonce.status == 0 && nonce.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1",
                "the observer's state after the snapshot: next nonce \(nonce.stdout) \(nonce.stderr)")
    }

    /// Data directories v0…v3 of the four devnet validators under `base`, `config` appended to
    /// each one's config.toml (its [consensus] section comes last).
    static func initDevnet(in base: String, config: String = "") throws -> [String] {
        let dirs = (0..<4).map { "\(base)/v\($0)" }
        for (index, dir) in dirs.enumerated() {
            let result = try NodeProcess.run(["init", "--data-dir", dir, "--devnet-validator", "\(index)"])
            #expect(result.status == 0, "\(result.stderr)")
            if !config.isEmpty { try append(config, toConfigOf: dir) }
        }
        return dirs
    }

    /// Validator i listens at 127.0.(10+i).1:7700, as the devnet's config names it.
    static func startDevnet(_ dirs: [String]) throws -> [Process] {
        try dirs.enumerated().map { index, dir in try NodeProcess.start(dataDir: dir, listen: "127.0.\(10 + index).1:7700") }
    }

    static func append(_ text: String, toConfigOf dir: String) throws {
        let path = dir + "/config.toml"
        let config = try String(contentsOfFile: path, encoding: .utf8)
        try (config + text).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
