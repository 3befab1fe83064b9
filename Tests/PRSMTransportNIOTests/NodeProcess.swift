import Foundation
import Testing

/// Runs the built `prsm-node` binary as a child process (tests of the volunteer's experience).
struct NodeProcess {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/prsm-node").path

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a command to completion (bounded by `timeout` seconds: killed after it).
    static func run(_ arguments: [String], timeout: Double = 30) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                      stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// Starts `prsm-node run` and waits until its API address file appears.
    static func start(dataDir: String, listen: String) throws -> Process {
        try? FileManager.default.removeItem(atPath: dataDir + "/api.address")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--data-dir", dataDir, "--listen", listen, "--api-listen", "127.0.0.1:0",
                             "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: dataDir + "/api.address") && Date() < deadline {
            usleep(20_000)
        }
        return process
    }

    static func stop(_ process: Process, signal: Int32 = SIGTERM) {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-proc-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
