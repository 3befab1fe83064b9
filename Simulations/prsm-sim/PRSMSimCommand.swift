import ArgumentParser

@main
struct PRSMSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prsm-sim",
        abstract: "Simulate and benchmark PRSM nodes, deterministically from a seed.",
        subcommands: [RunCommand.self, ReplayCommand.self, BenchCommand.self, CalibrateCommand.self])
}
