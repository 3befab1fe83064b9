import PRSMNode

/// No envelope is accepted twice by one node, nor outside the receiver's replay tolerance.
final class ReplayChecker: SimChecker {
    let name = "no-replay-accepted"
    let toleranceMs: UInt64
    /// One 8-byte fingerprint per accepted envelope: a mix of (receiver, the sender key's first
    /// 8 bytes, sequence). Runs accept millions, and this set was the simulator's largest table
    /// (a 24-byte receipt each). A collision could only report a false replay, never hide one;
    /// with 10⁷ envelopes its chance is about 3·10⁻⁶.
    ///
    /// Kept in two generations of 3 × tolerance each (by the receivers' clocks): an envelope
    /// accepted within the tolerance of its timestamp can be accepted again only within
    /// 2 × tolerance of the first time (any later acceptance is outside the window, which this
    /// checker reports on its own), so older fingerprints can go, and the checker's memory follows
    /// the message rate, not the run's length. The third tolerance covers clocks skewed apart
    /// (a skew beyond the tolerance would make nodes refuse each other anyway).
    private var seen = Set<UInt64>()
    private var previous = Set<UInt64>()
    private var generationStartMs: UInt64 = 0
    private(set) var firstViolation: String?
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
        if now >= generationStartMs + 3 * toleranceMs {
            previous = seen
            seen.removeAll(keepingCapacity: true)
            generationStartMs = now
        }
        let senderPrefix = sender.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let fingerprint = Self.fingerprint(receiver: receiver, sender: senderPrefix, sequence: sequence)
        if previous.contains(fingerprint) || !seen.insert(fingerprint).inserted {
            firstViolation = "\(names[receiver]) accepted sequence \(sequence) from \(sender) twice"
        } else if timestamp + toleranceMs < now || timestamp > now + toleranceMs {
            firstViolation = "\(names[receiver]) accepted a message stamped \(timestamp) at \(now), outside ±\(toleranceMs) ms"
        }
    }

    /// SplitMix64's finalizer over the three fields chained: fixed (not seeded per process, unlike
    /// `Hasher`), so a run's verdict never depends on hashing.
    static func fingerprint(receiver: Int, sender: UInt64, sequence: UInt64) -> UInt64 {
        func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return mix(mix(mix(UInt64(truncatingIfNeeded: receiver)) ^ sender) ^ sequence)
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        CheckResult(name: name, passed: firstViolation == nil,
                    message: firstViolation ?? "\(accepted) accepted envelopes, each once and within the window")
    }
}
