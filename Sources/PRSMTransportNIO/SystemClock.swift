#if canImport(Glibc)
import Glibc
#endif
import PRSMNode

/// The real node's clock: wall-clock unix milliseconds (CLOCK_REALTIME, as envelope timestamps
/// need), sleeping with Task.sleep.
public struct SystemClock: NodeClock {
    public init() {}

    public var nowMs: UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    public func sleep(untilMs deadlineMs: UInt64) async throws {
        let now = nowMs
        guard deadlineMs > now else { return }
        try await Task.sleep(nanoseconds: (deadlineMs - now) * 1_000_000)
    }
}

/// Randomness for the real node: libsodium's CSPRNG.
public struct SystemRandom: RandomNumberGenerator, Sendable {
    public init() {}
    public mutating func next() -> UInt64 { SecureRandom.uint64() }
}
