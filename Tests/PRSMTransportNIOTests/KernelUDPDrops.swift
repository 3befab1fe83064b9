import Foundation
import PRSMNode

/// Reads the kernel's drop count for one UDP socket from /proc/net/udp (or udp6): the last
/// column of the line whose local address matches.
enum KernelUDPDrops {
    static func drops(for address: PeerAddress) -> UInt64? {
        let (file, local) = procEntry(for: address)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 13, fields[1] == local else { continue }
            return UInt64(fields[fields.count - 1])
        }
        return nil
    }

    /// The kernel prints addresses as 32-bit words in host (little-endian) order.
    static func procEntry(for address: PeerAddress) -> (String, Substring) {
        let bytes = address.hostBytes
        let words = stride(from: 0, to: bytes.count, by: 4).map { offset in
            bytes[offset..<offset + 4].reversed().map { String(format: "%02X", $0) }.joined()
        }
        let port = String(format: "%04X", address.port)
        return (bytes.count == 4 ? "/proc/net/udp" : "/proc/net/udp6", Substring(words.joined() + ":" + port))
    }
}
