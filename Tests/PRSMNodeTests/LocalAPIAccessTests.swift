import HTTPTypes
import Hummingbird
import PRSMNode
import Testing

/// DNS-rebinding and cross-site defences, through a live server over a real socket, so the Host
/// header travels as a browser would send it.
@Suite("Local API access control")
struct LocalAPIAccessTests {
    @Test(arguments: ["evil.example:7701", "evil.example", "127.rebind.evil.example:7701",
                      "localhost.evil.example:7701", "127.0.0.1.evil.example:7701", "10.0.0.1:7701"])
    func foreignHostIsForbidden(_ host: String) async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get, headers: [.hostHeader: host]) { response in
                #expect(response.status == .forbidden)
                #expect(!response.text.contains(api.nodeHarness.identity.publicKey.hex))
            }
        }
    }

    @Test(arguments: ["localhost:7701", "127.0.0.1:7701", "[::1]:7701", "localhost", "127.0.0.2:7701"])
    func loopbackHostIsAccepted(_ host: String) async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get, headers: [.hostHeader: host]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: ["http://evil.example", "http://evil.example:7701", "http://127.rebind.evil.example:7701",
                      "null"])
    func foreignOriginIsForbidden(_ origin: String) async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get, headers: [.origin: origin]) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test(arguments: ["http://localhost:7701", "http://127.0.0.1:7701", "http://[::1]:7701"])
    func localOriginIsAccepted(_ origin: String) async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/status", method: .get, headers: [.origin: origin]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func changingStateNeedsTheToken() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            for method in [HTTPRequest.Method.post, .put, .delete] {
                try await client.execute(uri: "/status", method: method) { response in
                    #expect(response.status == .unauthorized, "\(method) without a token")
                }
            }
            for credential in ["Bearer wrong", "Bearer ", api.token, "Basic \(api.token)", "Bearer \(api.token)x"] {
                try await client.execute(uri: "/status", method: .post, headers: [.authorization: credential]) { response in
                    #expect(response.status == .unauthorized, "credential \(credential)")
                }
            }
            try await client.execute(uri: "/status", method: .post,
                                     headers: [.authorization: "Bearer \(api.token)"]) { response in
                // Past the middleware: the router has no POST /status.
                #expect([.notFound, .methodNotAllowed].contains(response.status))
            }
        }
    }

    @Test func readingNeedsNoToken() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: ["0.0.0.0:7701", "192.168.1.10:7701", "[::]:7701", "[2001:db8::1]:7701"])
    func nonLoopbackListenAddressIsRefused(_ address: String) throws {
        let api = APIHarness()
        let listen = try PeerAddress(parsing: address)
        let error = nodeError { _ = try api.application(listen: listen) }
        guard case let .badConfig(what, why)? = error else {
            Issue.record("expected .badConfig, got \(String(describing: error))")
            return
        }
        #expect(what == "api.listen")
        #expect(why.contains("loopback"))
    }

    @Test(arguments: ["127.0.0.1:7701", "127.8.9.1:0", "[::1]:7701"])
    func loopbackListenAddressIsAllowed(_ address: String) throws {
        let api = APIHarness()
        _ = try api.application(listen: try PeerAddress(parsing: address))
    }
}
