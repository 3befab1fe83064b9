/// The consensus engine's messages (kinds 0x02xx). Votes, timeouts and transactions usually fit
/// a datagram; proposals, and timeouts whose QC is large, travel over streams.
public enum ConsensusMessage: Hashable, Sendable {
    case proposal(Block)
    case vote(Vote)
    case timeout(TimeoutVote)
    /// Client transactions gossiped to validators' mempools, batched: one envelope (one
    /// signature to check) for up to `ConsensusLimits.maxGossipBatch` transactions.
    case transactions([Transaction])
    /// Block sync: a request (datagram) and its answer (stream).
    case blockRequest(BlockRequest)
    case blockResponse(BlockResponse)
    /// State sync: a validator's signature over a checkpoint (datagram), a request for a
    /// certified snapshot (datagram) and one chunk of it (stream).
    case checkpointVote(CheckpointVote)
    case snapshotRequest(SnapshotRequest)
    case snapshotChunk(SnapshotChunk)
    /// A client's own batch of transactions, sent to a node it chose: the node passes them on
    /// like gossip and answers with a `transactionReport` (on the same stream, or by datagram).
    case submission([Transaction])
    /// The answer to a submission: what was admitted, and what was refused and why.
    case transactionReport(TransactionReport)

    /// The epoch a proposal, vote or timeout belongs to (nil for the others).
    public var epoch: UInt64? {
        switch self {
        case let .proposal(block): return block.epoch
        case let .vote(vote): return vote.epoch
        case let .timeout(timeout): return timeout.epoch
        case .transactions, .blockRequest, .blockResponse, .checkpointVote, .snapshotRequest, .snapshotChunk, .submission,
             .transactionReport:
            return nil
        }
    }

    public var kind: MessageKind {
        switch self {
        case .proposal: return .proposal
        case .vote: return .vote
        case .timeout: return .timeout
        case .transactions: return .transaction
        case .blockRequest: return .blockRequest
        case .blockResponse: return .blockResponse
        case .checkpointVote: return .checkpointVote
        case .snapshotRequest: return .snapshotRequest
        case .snapshotChunk: return .snapshotChunk
        case .submission: return .submission
        case .transactionReport: return .transactionReport
        }
    }

    func encode(into writer: inout WireWriter) {
        switch self {
        case let .proposal(block): block.encode(into: &writer)
        case let .vote(vote): vote.encode(into: &writer)
        case let .timeout(timeout): timeout.encode(into: &writer)
        case let .transactions(transactions): writer.array(transactions) { $1.encode(into: &$0) }
        case let .blockRequest(request): request.encode(into: &writer)
        case let .blockResponse(response): response.encode(into: &writer)
        case let .checkpointVote(vote): vote.encode(into: &writer)
        case let .snapshotRequest(request): request.encode(into: &writer)
        case let .snapshotChunk(chunk): chunk.encode(into: &writer)
        case let .submission(transactions): writer.array(transactions) { $1.encode(into: &$0) }
        case let .transactionReport(report): report.encode(into: &writer)
        }
    }

    static func decode(_ kind: MessageKind, from reader: inout WireReader) throws(WireError) -> ConsensusMessage? {
        switch kind {
        case .proposal: return .proposal(try Block.decode(from: &reader))
        case .vote: return .vote(try Vote.decode(from: &reader))
        case .timeout: return .timeout(try TimeoutVote.decode(from: &reader))
        case .transaction:
            return .transactions(try reader.array("gossiped transactions", limit: ConsensusLimits.maxGossipBatch) {
                (r: inout WireReader) throws(WireError) in try Transaction.decode(from: &r)
            })
        case .blockRequest: return .blockRequest(try BlockRequest.decode(from: &reader))
        case .blockResponse: return .blockResponse(try BlockResponse.decode(from: &reader))
        case .checkpointVote: return .checkpointVote(try CheckpointVote.decode(from: &reader))
        case .snapshotRequest: return .snapshotRequest(try SnapshotRequest.decode(from: &reader))
        case .snapshotChunk: return .snapshotChunk(try SnapshotChunk.decode(from: &reader))
        case .submission:
            return .submission(try reader.array("submitted transactions", limit: ConsensusLimits.maxGossipBatch) {
                (r: inout WireReader) throws(WireError) in try Transaction.decode(from: &r)
            })
        case .transactionReport: return .transactionReport(try TransactionReport.decode(from: &reader))
        default: return nil
        }
    }
}
