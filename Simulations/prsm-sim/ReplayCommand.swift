import ArgumentParser
import Foundation
import PRSMSim

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run a recorded run with the same build and compare trace hashes.")

    @Argument(help: "A run directory written by `prsm-sim run`.")
    var directory: String

    func run() throws {
        let summary: RunArtifacts.Summary
        do { summary = try RunArtifacts.readSummary(from: directory) } catch {
            throw ValidationError("\(directory)/summary.json: \(error.localizedDescription)")
        }
        guard summary.build == BuildInfo.executableHash else {
            throw ValidationError("""
                \(directory) was recorded by another build (\(summary.build.prefix(16)), commit \(summary.commit)); \
                this is \(BuildInfo.executableHash.prefix(16)). Check out and build that commit to replay it.
                """)
        }
        let bytes = try topologyBytes(directory + "/" + summary.topology)
        let topology: Topology
        do { topology = try TopologyLoader.parse(bytes) } catch { throw ValidationError("\(error)") }
        var options = Simulation.Options(seed: summary.seed)
        options.randomSchedule = summary.schedule == "random"
        options.keepTrace = true
        options.costs = summary.costs
        let result = Simulation(topology: topology, options: options).run()
        printResult(result, directory: directory)
        if result.traceHash == summary.trace_hash {
            print("replay identical: trace \(result.traceHash)")
            if !result.passed { throw ExitCode(1) }
        } else {
            print("replay DIVERGED: recorded \(summary.trace_hash), replayed \(result.traceHash)")
            throw ExitCode(2)
        }
    }
}
