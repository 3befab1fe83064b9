/// How one seed of `prsm-sim run --seeds` ended.
enum SeedOutcome: Sendable {
    case passed
    case failed([String])
}

/// The seeds handed out and finished so far by the workers of `RunCommand.runMany`.
struct SeedProgress: Sendable {
    let total: Int
    private var handedOut = 0
    private(set) var done = 0
    private(set) var passed = 0
    /// Seed -> the names of its failed checks.
    private(set) var failures: [UInt64: [String]] = [:]

    init(total: Int) { self.total = total }

    mutating func nextSeed(from seeds: [UInt64]) -> UInt64? {
        guard handedOut < seeds.count else { return nil }
        defer { handedOut += 1 }
        return seeds[handedOut]
    }

    /// Records a finished seed and returns the progress line to print.
    mutating func record(_ seed: UInt64, _ outcome: SeedOutcome) -> String {
        done += 1
        switch outcome {
        case .passed: passed += 1
        case let .failed(checks): failures[seed] = checks
        }
        let width = 30, filled = done * width / max(total, 1)
        return "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(done)/\(total) seeds, \(failures.count) failed"
    }
}
