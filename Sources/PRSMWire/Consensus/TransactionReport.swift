/// A node's answer to a client's `submission`: how many of the batch it admitted, and each one
/// it turned away with why. Clients learn of a full mempool from it and resubmit later.
public struct TransactionReport: Hashable, Sendable {
    /// Transactions of the batch now pending (admitted now, or already pending before).
    public let admitted: UInt32
    public let refused: [TransactionRefusal]

    public init(admitted: UInt32, refused: [TransactionRefusal]) {
        self.admitted = admitted
        self.refused = refused
    }

    public func encode(into writer: inout WireWriter) {
        writer.u32(admitted)
        writer.array(refused) { $1.encode(into: &$0) }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> TransactionReport {
        let admitted = try reader.u32("report admitted")
        let refused = try reader.array("report refusals", limit: ConsensusLimits.maxGossipBatch) {
            (r: inout WireReader) throws(WireError) in try TransactionRefusal.decode(from: &r)
        }
        guard Int(admitted) + refused.count <= ConsensusLimits.maxGossipBatch else {
            throw .overLimit("report", length: Int(admitted) + refused.count, limit: ConsensusLimits.maxGossipBatch)
        }
        return TransactionReport(admitted: admitted, refused: refused)
    }

    /// The same report without the refusals' texts: what goes back by datagram, so the answer is
    /// never larger than the submission (a refusal without text is smaller than a transaction).
    public var withoutDetails: TransactionReport {
        TransactionReport(admitted: admitted, refused: refused.map { TransactionRefusal(hash: $0.hash, reason: $0.reason) })
    }
}
