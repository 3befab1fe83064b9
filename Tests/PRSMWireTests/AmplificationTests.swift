import NIOCore
import Testing
@testable import PRSMWire

/// The sizes docs/PROTOCOL.md states for the anti-amplification rule.
struct AmplificationTests {
    @Test func pongToAnUnprovenAddressStaysWithinThreeTimesThePing() {
        let ping = Fixture.seal(.ping(Ping(nonce: .max)))
        let pong4 = Fixture.seal(.pong(Pong(nonce: .max, observedAddress: .ipv4(255, 255, 255, 255, port: 65535))))
        let pong6 = Fixture.seal(.pong(Pong(nonce: .max, observedAddress: PeerAddress(
            host: .v6([UInt8](repeating: 0xfe, count: 16)), port: 65535))))
        #expect(ping.readableBytes == 163)
        #expect(pong4.readableBytes == 170)
        #expect(pong6.readableBytes == 182)
        #expect(pong6.readableBytes - ping.readableBytes == 19)
        #expect(pong6.readableBytes <= 3 * ping.readableBytes)
        #expect(pong6.readableBytes <= Envelope.maxDatagramSize)
    }

    @Test func limitsAreTheDocumentedOnes() {
        #expect(Envelope.maxDatagramSize == 1200)
        #expect(Envelope.maxFrameSize == 4 * 1024 * 1024)
        #expect(Hello.maxListenAddresses == 8)
    }
}
