import PRSMNode

/// No envelope is accepted twice by one node, nor outside the receiver's replay tolerance.
final class ReplayChecker: SimChecker {
    let name = "no-replay-accepted"
    let toleranceMs: UInt64
    /// How long a fingerprint must be kept (see `open`).
    let retentionMs: UInt64
    let generationMs: UInt64
    /// One 8-byte fingerprint per accepted envelope: a mix of (receiver, the sender key's first
    /// 8 bytes, sequence). Runs accept millions, and this set was the simulator's largest table
    /// (a 24-byte receipt each). A collision could only report a false replay, never hide one;
    /// with 10⁷ envelopes its chance is about 3·10⁻⁶.
    ///
    /// An envelope accepted within the tolerance of its timestamp can be accepted again only
    /// within 2 × tolerance of the first time on the receiver's clock (any later acceptance is
    /// outside the window, which this checker reports on its own), and a receiver's clock strays
    /// from the world's by at most the change of its skew: so a fingerprint matters for
    /// `retentionMs` = 2 × (tolerance + largest skew) of world time. The fingerprints live in
    /// `generationCount` generations of `retentionMs / (generationCount − 1)` each, the newest
    /// taking inserts: the oldest is dropped once the others span the retention. Four generations
    /// keep 1⅓ × the retention's worth of fingerprints at most, where two kept up to twice it; the
    /// checker's memory follows the message rate, not the run's length. Only the newest is a set;
    /// a generation that stops taking inserts becomes a sorted array searched by bisection, 8 bytes
    /// a fingerprint where a set's half-empty table costs about twice that.
    private var open: Set<UInt64> = []
    /// Closed generations, oldest first, each sorted.
    private var closed: [[UInt64]] = []
    private static let generationCount = 4
    private var generationStartMs: UInt64 = 0
    private(set) var firstViolation: String?
    private var accepted: UInt64 = 0

    private let names: [String]

    /// `maxSkewMs`: the largest clock skew any node may be given (its magnitude).
    init(toleranceMs: UInt64, maxSkewMs: UInt64, names: [String]) {
        self.toleranceMs = toleranceMs
        retentionMs = 2 * (toleranceMs + maxSkewMs)
        let turns = UInt64(Self.generationCount - 1)
        generationMs = (retentionMs + turns - 1) / turns
        self.names = names
    }

    func observe(_ observation: SimObservation) {
        guard case let .accepted(receiver, sender, sequence, timestamp, now, worldNowMs) = observation else { return }
        accepted += 1
        guard firstViolation == nil else { return }
        if worldNowMs >= generationStartMs + generationMs {
            // A fresh set sized for the last generation's count: keeping the old capacity would
            // pin every generation at the busiest one's size.
            closed.append(open.sorted())
            if closed.count >= Self.generationCount { closed.removeFirst() }
            open = Set(minimumCapacity: closed[closed.count - 1].count)
            generationStartMs = worldNowMs
        }
        let senderPrefix = sender.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let fingerprint = Self.fingerprint(receiver: receiver, sender: senderPrefix, sequence: sequence)
        if closed.contains(where: { Self.sortedContains($0, fingerprint) }) || !open.insert(fingerprint).inserted {
            firstViolation = "\(names[receiver]) accepted sequence \(sequence) from \(sender) twice"
        } else if timestamp + toleranceMs < now || timestamp > now + toleranceMs {
            firstViolation = "\(names[receiver]) accepted a message stamped \(timestamp) at \(now), outside ±\(toleranceMs) ms"
        }
    }

    static func sortedContains(_ sorted: [UInt64], _ value: UInt64) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && sorted[low] == value
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
