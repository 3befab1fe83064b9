import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PRSMNode
import Testing

/// POST /dht/put and GET /dht/get/{key} on a node that has not joined: the routes, the token,
/// bad input, and honest failure codes (the node keeps its own copy, so it can always get it).
@Suite(.timeLimit(.minutes(1)))
struct LocalAPIDHTTests {
    static let value = Array("a record for the DHT".utf8)
    static var key: String { Blake2b.hash256(value).hex }

    @Test func putNeedsTheToken() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/dht/put", method: .post, body: ByteBuffer(bytes: Self.value)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(await !api.node.dhtHolds(Blake2b.hash256(Self.value)))
        }
    }

    @Test func putWithoutContactsKeepsTheRecordAndSaysNobodyElseHasIt() async throws {
        let api = APIHarness()
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/dht/put", method: .post, headers: [.authorization: "Bearer \(api.token)"],
                                     body: ByteBuffer(bytes: Self.value)) { response in
                #expect(response.status == .serviceUnavailable)
                let answer = try response.decoded(DHTResponse.self)
                #expect(answer.key == Self.key)
                #expect(answer.storedAt == 0)
                #expect(answer.error == "no-contacts")
            }
            try await client.execute(uri: "/dht/get/\(Self.key)", method: .get) { response in
                #expect(response.status == .ok)
                let answer = try response.decoded(DHTResponse.self)
                #expect(answer.value == Hex.encode(Self.value))
                #expect(answer.error == nil)
            }
        }
    }

    @Test func badInputIsRefusedWithAReason() async throws {
        let api = APIHarness()
        let auth: HTTPFields = [.authorization: "Bearer \(api.token)"]
        try await api.withLiveAPI { client in
            try await client.execute(uri: "/dht/put", method: .post, headers: auth,
                                     body: ByteBuffer(bytes: [UInt8](repeating: 7, count: DHTLimits.maxValueSize + 1))) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/dht/put", method: .post, headers: auth, body: ByteBuffer()) { response in
                #expect(response.status == .badRequest)
            }
            for key in ["abc", String(repeating: "z", count: 64), String(repeating: "0", count: 66)] {
                try await client.execute(uri: "/dht/get/\(key)", method: .get) { response in
                    #expect(response.status == .badRequest, "key \(key)")
                }
            }
            try await client.execute(uri: "/dht/get/\(String(repeating: "ab", count: 32))", method: .get) { response in
                // Well formed but unknown, and the node knows nobody to ask.
                #expect(response.status == .serviceUnavailable)
                let answer = try? response.decoded(DHTResponse.self)
                #expect(answer?.error == "no-contacts")
            }
        }
    }
}
