import HTTPTypes
import Hummingbird
import NIOCore
import PRSMNode
import Testing

@Suite("Local API routes")
struct LocalAPIRoutesTests {
    @Test func statusDescribesTheNode() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let status = try response.decoded(NodeStatus.self)
                let identity = api.nodeHarness.identity.publicKey
                #expect(status.nodeID == identity.nodeID.hex)
                #expect(status.publicKey == identity.hex)
                #expect(status.network == "devnet")
                #expect(status.networkID == Devnet.genesis.networkID.hex)
                #expect(status.version == NodeVersion.software)
                #expect(status.listenAddresses == ["127.0.0.1:7700"])
                #expect(status.peersKnown == 0)
                #expect(status.accepted == 0)
                #expect(Set(status.drops.keys) == Set(DropReason.allCases.map(\.rawValue)))
                #expect(status.drops.values.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func dropsShowInStatusAndMetrics() async throws {
        let api = APIHarness()
        let source = PeerAddress.ipv4(127, 0, 9, 1, port: 40_000)
        await api.node.receive(InboundDatagram(bytes: ByteBuffer(repeating: 0xAB, count: 200), source: source))
        await api.node.receive(InboundDatagram(bytes: ByteBuffer(bytes: [1, 2, 3]), source: source))

        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                let status = try response.decoded(NodeStatus.self)
                #expect(status.drops["bad-magic"] == 1)
                #expect(status.drops["too-short"] == 1)
                #expect(status.drops.values.reduce(0, +) == 2)
                #expect(status.accepted == 0)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                #expect(text.contains("# TYPE prsm_inbound_dropped_total counter"))
                #expect(text.contains("prsm_inbound_dropped_total{reason=\"bad-magic\"} 1\n"))
                #expect(text.contains("prsm_inbound_dropped_total{reason=\"too-short\"} 1\n"))
                #expect(text.contains("prsm_inbound_accepted_total 0\n"))
            }
        }
    }

    @Test func unknownRouteIsNotFound() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/peers/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
