import Metrics
import NIOCore
import NIOPosix
import PRSMNode
import Synchronization
import Testing

@Suite("FaultInjectingTransport", .timeLimit(.minutes(1)))
struct FaultInjectingTransportTests {
    let inner = TestTransport(localAddress: .ipv4(127, 0, 80, 1, port: 7700))
    let b = PeerAddress.ipv4(127, 0, 81, 1, port: 7700)
    let c = PeerAddress.ipv4(127, 0, 82, 1, port: 7700)

    func datagram(_ byte: UInt8, from source: PeerAddress) -> InboundDatagram {
        InboundDatagram(bytes: ByteBuffer(bytes: [byte]), source: source)
    }

    func firstBytes(_ sent: [TestTransport.Sent]) -> [UInt8] {
        sent.map { $0.bytes.getInteger(at: $0.bytes.readerIndex, as: UInt8.self)! }
    }

    @Test func sendsToADeniedAddressAreDroppedUntilHeal() {
        let faulty = FaultInjectingTransport(wrapping: inner)
        #expect(faulty.localAddress == inner.localAddress)
        faulty.block([b])
        #expect(faulty.denied == [b])

        faulty.send(ByteBuffer(bytes: [1]), to: b)
        faulty.send(ByteBuffer(bytes: [2]), to: c)
        faulty.heal()
        #expect(faulty.denied.isEmpty)
        faulty.send(ByteBuffer(bytes: [3]), to: b)

        #expect(inner.sent.map(\.address) == [c, b])
        #expect(firstBytes(inner.sent) == [2, 3])
        #expect(faulty.counts.deniedOutbound == 1)
        #expect(faulty.counts.dropped == 1)
    }

    @Test func datagramsFromADeniedAddressAreDroppedAndCounted() async {
        let faulty = FaultInjectingTransport(wrapping: inner)
        faulty.block([b, b])
        inner.inject([datagram(1, from: b), datagram(2, from: c), datagram(3, from: b)])
        inner.inject([datagram(4, from: b)])  // nothing left: not handed on at all
        inner.inject([datagram(5, from: c)])
        inner.finish()

        let batches = Mutex<[[UInt8]]>([])
        await faulty.deliver { batch in
            batches.withLock { $0.append(batch.map { $0.bytes.getInteger(at: 0, as: UInt8.self)! }) }
        }
        #expect(batches.withLock { $0 } == [[2], [5]])
        #expect(faulty.counts.deniedInbound == 3)
        #expect(faulty.counts.dropped == 3)
    }

    @Test func lossAndDuplicationCountOnlySendsThatPassTheDenyList() {
        let faulty = FaultInjectingTransport(wrapping: inner)
        faulty.faults = .init(loseEvery: 3, duplicateEvery: 2)
        faulty.block([b])
        for byte in UInt8(1)...6 {
            faulty.send(ByteBuffer(bytes: [byte]), to: c)
            faulty.send(ByteBuffer(bytes: [byte]), to: b)
        }
        // Passed sends 1…6: 2 and 4 doubled, 3 lost, 6 lost (loss wins over duplication).
        #expect(firstBytes(inner.sent) == [1, 2, 2, 4, 4, 5])
        var expected = FaultInjectingTransport.Counts()
        expected.deniedOutbound = 6
        expected.lost = 2
        expected.duplicated = 2
        #expect(faulty.counts == expected)

        faulty.faults = .init()
        faulty.send(ByteBuffer(bytes: [7]), to: c)
        #expect(firstBytes(inner.sent) == [1, 2, 2, 4, 4, 5, 7])
    }

    @Test func aNodeBehindTheWrapperNeitherHearsNorReachesADeniedPeer() async throws {
        let clock = ManualClock()
        let faulty = FaultInjectingTransport(wrapping: inner)
        var options = Node.Options(identity: .generate(), genesis: Devnet.genesis)
        options.joinDHT = false
        let node = Node(options: options, transport: faulty,
                        clock: clock, random: SystemRandomNumberGenerator(),
                        metrics: NodeMetrics(factory: NOOPMetricsHandler.instance), logger: quietLogger,
                        executor: MultiThreadedEventLoopGroup.singleton.any().executor)
        faulty.block([b])
        let runner = Task { await node.run() }

        func ping(_ nonce: UInt64, offset: UInt64) -> ByteBuffer {
            Envelope.seal(.ping(Ping(nonce: nonce)), networkID: Devnet.genesis.networkID, key: .generate(),
                          sequence: (clock.nowMs << 16) + offset, timestamp: clock.nowMs)
        }
        inner.inject([InboundDatagram(bytes: ping(1, offset: 0), source: b),
                      InboundDatagram(bytes: ping(2, offset: 1), source: c)])
        await node.ping(b)
        await node.ping(c)
        inner.finish()
        await runner.value

        #expect(await node.dropCounters.total == 1, "the node saw only c's Ping")
        #expect(inner.sent.map(\.address) == [c, c], "a Pong and a Ping to c, nothing to b")
        #expect(faulty.counts.deniedInbound == 1)
        #expect(faulty.counts.deniedOutbound == 1)
    }
}
