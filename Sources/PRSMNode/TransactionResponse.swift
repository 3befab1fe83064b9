/// The local API's answer to a transaction submission or a nonce query.
public struct TransactionResponse: Codable, Sendable, Equatable {
    public var hash: String?
    public var accepted: Bool?
    public var nextNonce: UInt64?
    public var error: String?

    public init(hash: String? = nil, accepted: Bool? = nil, nextNonce: UInt64? = nil, error: String? = nil) {
        self.hash = hash
        self.accepted = accepted
        self.nextNonce = nextNonce
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case hash, accepted, error
        case nextNonce = "next_nonce"
    }
}
