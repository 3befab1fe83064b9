import ArgumentParser

@main
struct PRSMNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prsm-node",
        abstract: "Run a PRSM peer-to-peer node.",
        version: "0.1.0",
        subcommands: [InitCommand.self, RunCommand.self, PingCommand.self, StatusCommand.self, DHTCommand.self,
                      TxCommand.self])
}

/// Options shared by the subcommands that use a data directory.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $PRSM_HOME or ~/.prsm).")
    var dataDir: String?
}
