import PRSMNode

/// No envelope is accepted twice by one node, nor outside the receiver's replay tolerance.
final class ReplayChecker: SimChecker {
    let name = "no-replay-accepted"
    let toleranceMs: UInt64
    private var seen = Set<[UInt8]>()
    private var firstViolation: String?
    private var accepted: UInt64 = 0

    private let names: [String]

    init(toleranceMs: UInt64, names: [String]) {
        self.toleranceMs = toleranceMs
        self.names = names
    }

    func observe(_ observation: SimObservation) {
        guard case let .accepted(receiver, sender, sequence, timestamp, now) = observation else { return }
        accepted += 1
        guard firstViolation == nil else { return }
        var key = withUnsafeBytes(of: UInt32(receiver).bigEndian, Array.init) + sender.bytes
        key += withUnsafeBytes(of: sequence.bigEndian, Array.init)
        if !seen.insert(key).inserted {
            firstViolation = "\(names[receiver]) accepted sequence \(sequence) from \(sender) twice"
        } else if timestamp + toleranceMs < now || timestamp > now + toleranceMs {
            firstViolation = "\(names[receiver]) accepted a message stamped \(timestamp) at \(now), outside ±\(toleranceMs) ms"
        }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        CheckResult(name: name, passed: firstViolation == nil,
                    message: firstViolation ?? "\(accepted) accepted envelopes, each once and within the window")
    }
}
