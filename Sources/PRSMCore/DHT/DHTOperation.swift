import PRSMWire

/// A lookup the DHT runs on behalf of a caller or of its own maintenance.
public enum DHTPurpose: Equatable, Sendable {
    /// Joining: the lookup for our own id.
    case join
    /// Keeping a bucket fresh.
    case refresh
    /// A caller's FIND_NODE.
    case findNode(operation: UInt64)
    /// A caller's get.
    case get(operation: UInt64, key: Digest32)
    /// A caller's put: the closest nodes to the key are found, then sent STOREs.
    case put(operation: UInt64, value: [UInt8])
    /// Re-replicating a record we hold to the nodes now closest to its key.
    case replicate(value: [UInt8])
}

/// What a finished caller operation reports.
public struct DHTResult: Equatable, Sendable {
    public enum Kind: String, Sendable { case findNode = "find-node", get, put }
    public enum Failure: String, Equatable, Sendable {
        /// Too many operations already in flight.
        case busy
        /// The node has no contacts to ask (not joined).
        case noContacts = "no-contacts"
        /// Nobody holding the value answered.
        case notFound = "not-found"
        /// No node accepted the record.
        case notStored = "not-stored"
        /// The value is over `DHTLimits.maxValueSize`.
        case tooLarge = "too-large"
        /// The node stopped before the operation finished.
        case stopped
    }

    public let operation: UInt64
    public let kind: Kind
    public let target: Digest32
    /// The k closest nodes that answered, nearest first.
    public let closest: [Contact]
    public let value: [UInt8]?
    /// Nodes that confirmed a STORE (put).
    public let storedAt: Int
    public let hops: Int
    public let requests: Int
    public let startedMs: UInt64
    public let finishedMs: UInt64
    public let failure: Failure?

    public var succeeded: Bool { failure == nil }

    public init(operation: UInt64, kind: Kind, target: Digest32, closest: [Contact], value: [UInt8]?, storedAt: Int,
                hops: Int, requests: Int, startedMs: UInt64, finishedMs: UInt64, failure: Failure?) {
        self.operation = operation
        self.kind = kind
        self.target = target
        self.closest = closest
        self.value = value
        self.storedAt = storedAt
        self.hops = hops
        self.requests = requests
        self.startedMs = startedMs
        self.finishedMs = finishedMs
        self.failure = failure
    }

    /// An operation that ended without asking anyone.
    public static func failed(_ failure: Failure, operation: UInt64, kind: Kind, target: Digest32,
                              nowMs: UInt64) -> DHTResult {
        DHTResult(operation: operation, kind: kind, target: target, closest: [], value: nil, storedAt: 0, hops: 0,
                  requests: 0, startedMs: nowMs, finishedMs: nowMs, failure: failure)
    }
}

/// Where the node is in joining the network.
public enum JoinState: Equatable, Sendable {
    case notStarted
    /// Waiting for seeds (bootstrap peers and saved contacts) to answer a Ping.
    case contactingSeeds(attempt: Int)
    /// Looking up our own id.
    case lookingUp(attempt: Int)
    case joined
    /// The last attempt failed; the next starts at `retryAtMs`. `attempt` attempts have failed.
    case waitingToRetry(attempt: Int, retryAtMs: UInt64)

    public var label: String {
        switch self {
        case .notStarted: return "not-started"
        case .contactingSeeds: return "contacting-seeds"
        case .lookingUp: return "looking-up"
        case .joined: return "joined"
        case .waitingToRetry: return "retrying"
        }
    }
}
