/// Proof that an epoch's last block is final, for nodes that were not there: the blocks above
/// it on the certified branch (same epoch, ascending, the first a child of the last block) and
/// the QC certifying the highest of them. The 2-chain rule applied to these commits the last
/// block, so a node that verifies them against the ending epoch's validators needs no trust in
/// the sender. Those blocks themselves are never committed: an epoch ends exactly at its last
/// block, and the next epoch starts on top of it.
public struct EpochProof: Hashable, Sendable {
    public let blocks: [Block]
    public let certificate: QuorumCertificate

    public init(blocks: [Block], certificate: QuorumCertificate) {
        self.blocks = blocks
        self.certificate = certificate
    }

    public func encode(into writer: inout WireWriter) {
        writer.array(blocks) { $1.encode(into: &$0) }
        certificate.encode(into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> EpochProof {
        let blocks = try reader.array("epoch proof blocks", limit: ConsensusLimits.maxSyncBlocks) {
            (r: inout WireReader) throws(WireError) in try Block.decode(from: &r)
        }
        guard !blocks.isEmpty else { throw .nonCanonical("epoch proof without blocks") }
        return EpochProof(blocks: blocks, certificate: try QuorumCertificate.decode(from: &reader))
    }
}
