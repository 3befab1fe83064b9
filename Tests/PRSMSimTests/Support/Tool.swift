import Foundation
import Testing

/// What a finished `prsm-sim` process did.
struct ToolRun {
    let status: Int32
    /// Standard output and standard error, interleaved.
    let output: String
}

/// The `prsm-sim` executable of the build the tests run from (`swift build --build-tests` builds
/// it next to the test bundle), else the repository's .build/debug one.
func prsmSimExecutable() throws -> URL {
    let beside = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("prsm-sim")
    let candidates = [beside, repositoryRoot.appendingPathComponent(".build/debug/prsm-sim")]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw ToolMissing(candidates: candidates.map(\.path))
    }
    return found
}

struct ToolMissing: Error, CustomStringConvertible {
    let candidates: [String]
    var description: String { "prsm-sim not built (run `swift build --build-tests`); looked at \(candidates)" }
}

struct ToolTimedOut: Error, CustomStringConvertible {
    let arguments: [String]
    let output: String
    var description: String { "prsm-sim \(arguments.joined(separator: " ")) still running; killed. Output:\n\(output)" }
}

/// Runs `prsm-sim arguments…` from the repository root with SWIFT_DETERMINISTIC_HASHING=1, waits at
/// most `limit` (then kills it and throws), and returns its exit status and output.
func runPrsmSim(_ arguments: [String], limit: Duration = .seconds(60)) async throws -> ToolRun {
    let outputFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("prsm-sim-\(UUID().uuidString).out")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let sink = try FileHandle(forWritingTo: outputFile)
    defer { try? sink.close() }

    let process = Process()
    process.executableURL = try prsmSimExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_DETERMINISTIC_HASHING"] = "1"
    process.environment = environment
    process.standardOutput = sink
    process.standardError = sink
    process.standardInput = FileHandle.nullDevice
    try process.run()

    let deadline = ContinuousClock.now + limit
    while process.isRunning, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    let output = { String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        throw ToolTimedOut(arguments: arguments, output: output())
    }
    process.waitUntilExit()
    return ToolRun(status: process.terminationStatus, output: output())
}

/// A fresh directory under the temporary directory, removed by `body`'s caller via `defer`.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-sim-test-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
