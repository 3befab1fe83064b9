import PRSMNode

/// Hashes the trace as it streams (BLAKE2b-256 chained over 64 KiB chunks) and keeps the lines
/// only when asked (`--trace`, or a failed check re-run).
struct TraceRecorder {
    private(set) var lines: [String] = []
    private(set) var count: UInt64 = 0
    private let keepLines: Bool
    private var chunk: [UInt8] = []
    private var digest = Digest32.zero

    init(keepLines: Bool) { self.keepLines = keepLines }

    mutating func append(timeUs: UInt64, _ text: String) {
        let line = "\(timeUs) \(text)"
        count += 1
        chunk.append(contentsOf: line.utf8)
        chunk.append(0x0a)
        if keepLines { lines.append(line) }
        if chunk.count >= 65_536 { fold() }
    }

    private mutating func fold() {
        digest = Blake2b.hash256(digest.bytes + chunk)
        chunk.removeAll(keepingCapacity: true)
    }

    mutating func finish() -> Digest32 {
        fold()
        return digest
    }
}
