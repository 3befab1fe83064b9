import PRSMNode

/// No envelope is accepted twice by one node, nor outside the receiver's replay tolerance.
final class ReplayChecker: SimChecker {
    let name = "no-replay-accepted"
    let toleranceMs: UInt64
    /// One inline entry per accepted envelope (no heap array each: runs accept millions). Senders
    /// are told apart by their key's first 8 bytes; a collision could only report a false replay.
    private struct Receipt: Hashable {
        let receiver: UInt32
        let sender: UInt64
        let sequence: UInt64
    }

    private var seen = Set<Receipt>()
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
        let senderPrefix = sender.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if !seen.insert(Receipt(receiver: UInt32(receiver), sender: senderPrefix, sequence: sequence)).inserted {
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
