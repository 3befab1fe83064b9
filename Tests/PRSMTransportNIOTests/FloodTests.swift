import NIOCore
import NIOPosix
import PRSMNode
import Testing
@testable import PRSMTransportNIO

/// DESIGN/issue: a node flooded with 100,000 hostile datagrams from one address keeps answering
/// pings from another, and its counters plus the kernel's drops account for every datagram.
@Suite(.timeLimit(.minutes(3)))
struct FloodTests {
    static let floodSize = 100_000
    /// Datagrams per second from the attacker. A debug build drains ~25k/s; past its drain
    /// rate the kernel drops datagrams from every source alike (counted, but pings too).
    static let floodRate = 10_000

    /// One hostile datagram of each kind, cycling; the valid envelopes they derive from are
    /// signed by a key the node has never heard of.
    static func hostileDatagrams(count: Int, network: Digest32) -> [ByteBuffer] {
        var random = SplitMix64(seed: 0xF100D)
        let attacker = SigningKey.generate()
        let other = Blake2b.hash256(Array("another network".utf8))
        let now = SystemClock().nowMs
        var sequence = SequenceCounter()
        func valid(_ net: Digest32) -> [UInt8] {
            let message = Message.ping(Ping(nonce: random.next()))
            let buffer = Envelope.seal(message, networkID: net, key: attacker,
                                       sequence: sequence.next(nowMs: now), timestamp: now)
            return Array(buffer.readableBytesView)
        }
        let replayed = valid(network)
        var out: [ByteBuffer] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            var bytes: [UInt8]
            switch index % 7 {
            case 0: bytes = (0..<Int(random.next() % 1_300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1: bytes = valid(network); bytes.removeLast(Int(random.next() % UInt64(bytes.count)) + 1)
            case 2: bytes = valid(network); let i = Int(random.next() % UInt64(bytes.count)); bytes[i] ^= 1 << (random.next() % 8)
            case 3: bytes = [UInt8](repeating: 0xAB, count: Envelope.maxDatagramSize + 1 + Int(random.next() % 400))
            case 4: bytes = valid(other)
            case 5: bytes = valid(network); bytes[bytes.count - 1] ^= 0x55
            default: bytes = replayed
            }
            out.append(ByteBuffer(bytes: bytes))
        }
        return out
    }

    @Test func floodedNodeKeepsAnsweringAndAccountsForEveryDatagram() async throws {
        let target = try await LiveNode(address: .ipv4(127, 0, 31, 1, port: 0))
        let pinger = try await LiveNode(address: .ipv4(127, 0, 32, 1, port: 0))
        let kernelBefore = KernelUDPDrops.drops(for: target.address) ?? 0
        let datagrams = Self.hostileDatagrams(count: Self.floodSize, network: target.node.networkID)

        let attacker = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: PeerAddress.ipv4(127, 0, 33, 1, port: 0).socketAddress).get()
        let destination = target.address.socketAddress
        var answered = 0
        var pingsSent = 0
        let started = ContinuousClock.now
        for (index, datagram) in datagrams.enumerated() {
            let envelope = AddressedEnvelope(remoteAddress: destination, data: datagram)
            if index % 500 == 499 {
                try await attacker.writeAndFlush(envelope)
                let due = started + .milliseconds((index + 1) * 1_000 / Self.floodRate)
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
            } else {
                attacker.writeAndFlush(envelope, promise: nil)
            }
            if index % 10_000 == 5_000 {
                pingsSent += 1
                if await pinger.ping(target.address) != nil { answered += 1 }
            }
        }
        pingsSent += 1
        if await pinger.ping(target.address) != nil { answered += 1 }
        #expect(answered == pingsSent, "pings answered during the flood: \(answered) of \(pingsSent)")

        let expected = UInt64(Self.floodSize + pingsSent)
        var last: (counted: UInt64, kernel: UInt64) = (0, 0)
        let balanced = await eventually(seconds: 60) {
            let counted = await target.node.dropCounters.total
            let kernel = (KernelUDPDrops.drops(for: target.address) ?? 0) - kernelBefore
            last = (counted, kernel)
            return counted + kernel == expected
        }
        #expect(balanced, "node counted \(last.counted), kernel dropped \(last.kernel), sent \(expected)")
        let counters = await target.node.dropCounters
        // The first copy of the replayed envelope is genuine; every later copy must be refused.
        #expect(counters.accepted == UInt64(pingsSent) + 1)
        for reason in [DropReason.tooLarge, .wrongNetwork, .badSignature, .tooShort] {
            #expect(counters[reason] > 0, "no \(reason.rawValue) drops counted")
        }
        #expect(counters[.replayed] + counters[.rateLimited] > 0)
        try await attacker.close()
        await pinger.stop()
        await target.stop()
    }
}

/// Deterministic test randomness.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
