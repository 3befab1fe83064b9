import Foundation
import Testing

/// The volunteer's commands, as real processes on loopback (each node on its own 127.X.Y.1).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct NodeProcessTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: NodeProcess.binary),
                     "build prsm-node first (swift build --build-tests builds it)")
    }

    @Test func twoNodesPingTwiceAndAfterRestartsOfEither() throws {
        let base = NodeProcess.temporaryDirectory()
        let (a, b) = (base + "/a", base + "/b")
        #expect(try NodeProcess.run(["init", "--data-dir", a]).status == 0)
        #expect(try NodeProcess.run(["init", "--data-dir", b]).status == 0)
        var nodeA = try NodeProcess.start(dataDir: a, listen: "127.0.51.1:17700")
        var nodeB = try NodeProcess.start(dataDir: b, listen: "127.0.52.1:17700")
        defer { NodeProcess.stop(nodeA); NodeProcess.stop(nodeB) }

        func ping(_ target: String, from dir: String, bind: String) throws -> NodeProcess.Output {
            try NodeProcess.run(["ping", target, "--data-dir", dir, "--bind", bind, "--timeout", "3"])
        }
        for _ in 0..<2 {
            let result = try ping("127.0.51.1:17700", from: b, bind: "127.0.52.1:0")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("pong from"))
        }
        #expect(try ping("127.0.52.1:17700", from: a, bind: "127.0.51.1:0").status == 0)

        NodeProcess.stop(nodeA)
        nodeA = try NodeProcess.start(dataDir: a, listen: "127.0.51.1:17700")
        // The address book came back from node.sqlite: a knows its peers before anyone pings it.
        let restarted = try NodeProcess.run(["status", "--data-dir", a, "--json"])
        let restartedJSON = try JSONSerialization.jsonObject(with: Data(restarted.stdout.utf8)) as? [String: Any]
        #expect((restartedJSON?["peers_known"] as? Int ?? 0) >= 1, "\(restarted.stdout)")
        #expect((restartedJSON?["accepted"] as? Int) == 0)
        #expect(try ping("127.0.51.1:17700", from: b, bind: "127.0.52.1:0").status == 0)

        // A killed node leaves no stale lock: the kernel drops it with the process.
        NodeProcess.stop(nodeB, signal: SIGKILL)
        nodeB = try NodeProcess.start(dataDir: b, listen: "127.0.52.1:17700")
        #expect(try ping("127.0.52.1:17700", from: a, bind: "127.0.51.1:0").status == 0)

        let status = try NodeProcess.run(["status", "--data-dir", a, "--json"])
        #expect(status.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect(json?["network"] as? String == "devnet")
        #expect((json?["peers_known"] as? Int ?? 0) >= 1)
    }

    @Test func pingOfSilentAddressFailsWithClearMessage() throws {
        let result = try NodeProcess.run(["ping", "127.0.53.1:9", "--bind", "127.0.54.1:0", "--timeout", "0.5"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no valid Pong from 127.0.53.1:9"))
    }

    @Test func secondRunOnOneDataDirectoryIsRefusedAndInitNeverOverwrites() throws {
        let dir = NodeProcess.temporaryDirectory() + "/n"
        #expect(try NodeProcess.run(["init", "--data-dir", dir]).status == 0)
        let key = try String(contentsOfFile: dir + "/node.key", encoding: .utf8)
        let again = try NodeProcess.run(["init", "--data-dir", dir])
        #expect(again.status != 0)
        #expect(again.stderr.contains("refusing to overwrite"))
        #expect(try String(contentsOfFile: dir + "/node.key", encoding: .utf8) == key)

        let node = try NodeProcess.start(dataDir: dir, listen: "127.0.55.1:0")
        defer { NodeProcess.stop(node) }
        let second = try NodeProcess.run(["run", "--data-dir", dir, "--listen", "127.0.55.1:0"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("already running"))
    }

    @Test func aValidatorsConsensusKeyIsItsOwnFileAndRunChecksItAgainstGenesis() throws {
        let dir = NodeProcess.temporaryDirectory() + "/v"
        let made = try NodeProcess.run(["init", "--data-dir", dir, "--validator"])
        #expect(made.status == 0)
        let nodeKey = try String(contentsOfFile: dir + "/node.key", encoding: .utf8)
        let validatorKey = try String(contentsOfFile: dir + "/validator.key", encoding: .utf8)
        #expect(nodeKey != validatorKey)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/validator.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // init prints both public keys: the operator puts them in the network's genesis.
        let publicLine = { (file: String) in file.split(separator: "\n").first { $0.hasPrefix("public: ") }.map { String($0.dropFirst(8)) } }
        #expect(publicLine(nodeKey).map { made.stdout.contains("node key:   \($0)") } == true)
        #expect(publicLine(validatorKey).map { made.stdout.contains("validator:  \($0)") } == true)

        // The devnet genesis does not list this validator: it must not vote there.
        let config = dir + "/config.toml"
        let section = "\n[consensus]\nvalidator = true\n"
        try (String(contentsOfFile: config, encoding: .utf8) + section).write(toFile: config, atomically: true, encoding: .utf8)
        let run = try NodeProcess.run(["run", "--data-dir", dir, "--listen", "127.0.58.1:0", "--api-listen", "127.0.0.1:0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("is not a validator of devnet"), "\(run.stderr)")

        // Without validator.key it says where the key belongs.
        try FileManager.default.removeItem(atPath: dir + "/validator.key")
        let keyless = try NodeProcess.run(["run", "--data-dir", dir, "--listen", "127.0.58.1:0", "--api-listen", "127.0.0.1:0"])
        #expect(keyless.status != 0)
        #expect(keyless.stderr.contains("validator.key"), "\(keyless.stderr)")
    }

    @Test func badArgumentsAndBadConfigGiveClearErrors() throws {
        let bad = try NodeProcess.run(["ping", "not-an-address"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("invalid address"))
        let dir = NodeProcess.temporaryDirectory() + "/c"
        #expect(try NodeProcess.run(["init", "--data-dir", dir]).status == 0)
        try "[network]\nlisten = \"127.0.0.1:7700\"\nlisen = 3\n".write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        let run = try NodeProcess.run(["run", "--data-dir", dir])
        #expect(run.status != 0)
        #expect(run.stderr.contains("unknown key network.lisen"))
    }
}
