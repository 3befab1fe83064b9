import PRSMWire

/// The Kademlia distance: d(a, b) = a XOR b, read as a 256-bit big-endian number.
public enum XORMetric {
    /// A distance as four big-endian 64-bit words: cheap to compare, built without allocating.
    public struct Distance: Comparable, Hashable, Sendable {
        public let words: (UInt64, UInt64, UInt64, UInt64)

        public init(_ a: NodeID, _ b: NodeID) {
            words = (a.digest.value ^ b.digest.value).bigEndianWords
        }

        public static func < (lhs: Distance, rhs: Distance) -> Bool { lhs.words < rhs.words }
        public static func == (lhs: Distance, rhs: Distance) -> Bool { lhs.words == rhs.words }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    /// Whether `a` is strictly closer to `target` than `b` (distinct ids are never equally close).
    public static func isCloser(_ a: NodeID, than b: NodeID, to target: NodeID) -> Bool {
        Distance(a, target) < Distance(b, target)
    }

    /// Sorts items nearest to `target` first, computing each distance once.
    public static func sorted<T>(_ items: some Sequence<T>, by id: (T) -> NodeID, to target: NodeID) -> [T] {
        items.map { (Distance(id($0), target), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
