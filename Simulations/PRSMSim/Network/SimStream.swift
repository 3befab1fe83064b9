import NIOCore
import PRSMNode

/// Why a simulated stream failed.
public enum SimStreamError: Error, Equatable, Sendable {
    /// Nobody listens there, or a partition separates us (a TCP connect timing out).
    case refused(PeerAddress)
    /// A partition or a crash broke the connection (a TCP reset).
    case reset
    case frameTooLarge(Int)
}

/// A simulated TCP connection: frames arrive in order, without loss, after the link's latency;
/// a partition between its ends or a crash of either end resets it.
final class SimConnection: @unchecked Sendable {
    let id: Int
    let clientNode: Int
    let serverNode: Int
    // Weak: each end is owned by the task using it and owns its connection.
    weak var client: SimStreamEnd?
    weak var server: SimStreamEnd?
    private(set) var isReset = false

    init(id: Int, clientNode: Int, serverNode: Int) {
        self.id = id
        self.clientNode = clientNode
        self.serverNode = serverNode
    }

    func reset() {
        guard !isReset else { return }
        isReset = true
        client?.fail()
        server?.fail()
    }
}

/// One end of a simulated connection, used by a single task.
final class SimStreamEnd: FramedStream, @unchecked Sendable {
    let remoteAddress: PeerAddress
    let fromNode: Int
    let toNode: Int
    let connection: SimConnection
    private let network: SimNetwork
    private var queue: [ByteBuffer] = []
    private var peerClosed = false
    private var failed = false
    private var closed = false
    /// Both directions finished: the connection can be forgotten.
    var closedBoth: Bool { closed && peerClosed }
    private var waiter: CheckedContinuation<ByteBuffer?, any Error>?
    /// Arrival time of the last frame sent from this end: later frames never overtake it.
    var lastArrivalUs: UInt64 = 0
    /// The virtual CPU of the node using this end: its frames leave once the signing charged
    /// before them is done, and a frame reaches it only when it is free (as datagrams do).
    var cpu: SimCPU?

    init(remoteAddress: PeerAddress, fromNode: Int, toNode: Int, connection: SimConnection, network: SimNetwork) {
        self.remoteAddress = remoteAddress
        self.fromNode = fromNode
        self.toNode = toNode
        self.connection = connection
        self.network = network
    }

    var peer: SimStreamEnd? { connection.client === self ? connection.server : connection.client }

    func send(_ frame: ByteBuffer) async throws {
        guard frame.readableBytes <= Envelope.maxFrameSize else {
            throw SimStreamError.frameTooLarge(frame.readableBytes)
        }
        guard !connection.isReset else { throw SimStreamError.reset }
        network.carry(.frame(frame), from: self)
    }

    func receive() async throws -> ByteBuffer? {
        if !queue.isEmpty { return queue.removeFirst() }
        if failed { throw SimStreamError.reset }
        if peerClosed { return nil }
        let waiterBox = self
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in waiterBox.waiter = continuation }
        } onCancel: {
            waiterBox.fail()
        }
    }

    /// Closes our side (after everything sent so far arrives, the peer reads nil).
    func close() {
        guard !closed, !connection.isReset else { return }
        closed = true
        network.carry(.close, from: self)
    }

    func arrive(_ frame: ByteBuffer) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: frame)
        } else {
            queue.append(frame)
        }
    }

    func arriveClose() {
        peerClosed = true
        if queue.isEmpty, let waiter {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }

    func fail() {
        failed = true
        queue.removeAll()
        if let waiter {
            self.waiter = nil
            waiter.resume(throwing: SimStreamError.reset)
        }
    }
}
