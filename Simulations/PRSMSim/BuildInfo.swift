import Foundation
import PRSMNode

/// What build and machine produced a result, for reports and replays.
public enum BuildInfo {
    /// The git commit of the source tree the tool runs from ("unknown" outside a checkout),
    /// with "-dirty" when it has uncommitted changes.
    public static let commit: String = {
        guard let head = run("git", ["rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = (run("git", ["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "-dirty"
        return head + dirty
    }()

    /// BLAKE2b-256 of the running executable: two runs share it only if they run the same build.
    public static let executableHash: String = {
        guard let bytes = FileManager.default.contents(atPath: "/proc/self/exe") else { return "unknown" }
        return Blake2b.hash256(Array(bytes)).hex
    }()

    public static let cpuModel: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }()

    static func run(_ tool: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
