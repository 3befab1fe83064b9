import ArgumentParser
import Foundation
import PRSMSim

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure this machine's crypto costs (release build!) and write the simulator's CPU cost model.")

    @Option(help: "Where to write the cost model.") var out = "Simulations/costs.json"

    func run() throws {
        let model = CostModel.calibrated(from: CryptoBench().run())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(model).write(to: URL(fileURLWithPath: out))
        print("sign \(model.sign_ns) ns, verify \(model.verify_ns) ns, \(model.byte_ns_per_kib) ns/KiB -> \(out)")
    }
}
