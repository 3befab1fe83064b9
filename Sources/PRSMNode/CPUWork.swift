/// Expensive work a node does, reported so the simulator can charge virtual CPU time for it
/// (its cost model); the real node pays in real time and ignores the reports.
public enum CPUWork: Sendable, Equatable {
    case sign
    case verify
    /// Hashing or copying this many bytes.
    case bytes(Int)
}
