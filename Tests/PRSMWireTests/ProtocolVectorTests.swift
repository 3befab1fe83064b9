import Foundation
import NIOCore
import Testing
@testable import PRSMWire

/// Regenerates every test vector of docs/PROTOCOL.md with this code and compares it with the
/// document, so the document (which other implementations and Tests/python read) cannot drift.
struct ProtocolVectorTests {
    static let protocolDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // PRSMWireTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("docs/PROTOCOL.md")

    static let nonce: UInt64 = 0x0102_0304_0506_0708
    static let pingTime: UInt64 = 1_767_225_600_000
    static let pongTime: UInt64 = 1_767_225_600_005
    static let observed = PeerAddress.ipv4(127, 0, 0, 1, port: 7700)

    static func seed(_ text: String) -> [UInt8] { Blake2b.hash256(Array(text.utf8)).bytes }

    static var pingEnvelope: ByteBuffer {
        Envelope.seal(.ping(Ping(nonce: nonce)), networkID: Devnet.genesis.networkID, key: Fixture.keyA,
                      sequence: pingTime << 16 | 1, timestamp: pingTime)
    }

    static var pongEnvelope: ByteBuffer {
        Envelope.seal(.pong(Pong(nonce: nonce, observedAddress: observed)), networkID: Devnet.genesis.networkID,
                      key: Fixture.keyB, sequence: pongTime << 16 | 1, timestamp: pongTime)
    }

    /// Every vector the document must carry, computed from the code.
    static let computed: [String: String] = {
        var values: [String: String] = [
            "devnet-genesis": Hex.encode(Devnet.genesis.encode()),
            "devnet-network-id": Devnet.genesis.networkID.hex,
            "key-a-seed": Hex.encode(seed("prsm-test-vector-key")),
            "key-a-public": Fixture.keyA.publicKey.hex,
            "key-b-seed": Hex.encode(seed("prsm-test-vector-responder")),
            "key-b-public": Fixture.keyB.publicKey.hex,
            "ping-envelope": Hex.encode(bytes(pingEnvelope)),
            "pong-envelope": Hex.encode(bytes(pongEnvelope)),
        ]
        for index in 0..<Devnet.validatorCount {
            values["devnet-validator-\(index)-public"] = Devnet.validatorKey(index).publicKey.hex
            values["devnet-node-\(index)-public"] = Devnet.nodeKey(index).publicKey.hex
        }
        return values
    }()

    /// `name: hex` lines inside ```vectors fenced blocks.
    static func documented() throws -> [String: String] {
        let text = try String(contentsOf: protocolDoc, encoding: .utf8)
        var values: [String: String] = [:]
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                inBlock = !inBlock && trimmed == "```vectors"
                continue
            }
            guard inBlock, let colon = trimmed.firstIndex(of: ":") else { continue }
            let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            #expect(values[name] == nil, "vector \(name) appears twice")
            values[name] = value
        }
        return values
    }

    @Test(arguments: computed.keys.sorted())
    func documentedVectorMatchesTheCode(name: String) throws {
        let documented = try Self.documented()
        guard let value = documented[name] else {
            Issue.record("docs/PROTOCOL.md has no `\(name):` line in a ```vectors block; it should be \(Self.computed[name]!)")
            return
        }
        #expect(value == Self.computed[name], "\(name) in docs/PROTOCOL.md")
    }

    @Test func documentHasNoVectorTheCodeDoesNotCheck() throws {
        #expect(Set(try Self.documented().keys).subtracting(Self.computed.keys).isEmpty)
    }

    @Test func documentedEnvelopesPassTheReceivePipeline() throws {
        let documented = try Self.documented()
        let ping = ByteBuffer(bytes: try Hex.decode(try #require(documented["ping-envelope"])))
        let pong = ByteBuffer(bytes: try Hex.decode(try #require(documented["pong-envelope"])))
        #expect(ping.readableBytes == 163)
        #expect(pong.readableBytes == 170)
        let pipeline = Receiver(network: Devnet.genesis.networkID)
        #expect(pipeline.verdict(ping, from: Self.observed, nowMs: Self.pingTime)
                == .accepted(.ping(Ping(nonce: Self.nonce)), sender: Fixture.keyA.publicKey))
        #expect(pipeline.verdict(pong, from: .ipv4(127, 0, 0, 2, port: 7700), nowMs: Self.pongTime)
                == .accepted(.pong(Pong(nonce: Self.nonce, observedAddress: Self.observed)), sender: Fixture.keyB.publicKey))
    }
}
