/// Block sync: "send me the blocks on the chain ending at `target`, from just above height
/// `knownHeight` upward". The requester names the block it is missing (a proposal's parent)
/// and its committed height; the answer is a `BlockResponse` over a stream. An observer that
/// follows the chain names the zero hash: "up to your newest certified block".
public struct BlockRequest: Hashable, Sendable {
    public let target: Digest32
    public let knownHeight: UInt64

    public init(target: Digest32, knownHeight: UInt64) {
        self.target = target
        self.knownHeight = knownHeight
    }

    public func encode(into writer: inout WireWriter) {
        writer.fixed(target.bytes)
        writer.u64(knownHeight)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> BlockRequest {
        BlockRequest(target: try Digest32.decode(from: &reader, "sync target"),
                     knownHeight: try reader.u64("sync known height"))
    }
}

/// Blocks in ascending height order, each linked to the one before by its parent hash (the
/// first to a block the requester holds). Each block's QC certifies its parent, so the receiver
/// verifies and commits them by the ordinary 2-chain rule, trusting nobody. When the last block
/// ends an epoch, `epochProof` shows it final (the requester then continues in the next epoch).
public struct BlockResponse: Hashable, Sendable {
    public let blocks: [Block]
    public let epochProof: EpochProof?
    /// Set (with no blocks) when the responder has pruned the heights asked for: its committed
    /// height, so the requester knows how far behind it is and fetches a snapshot instead.
    public let prunedAtHeight: UInt64?

    public init(blocks: [Block], epochProof: EpochProof? = nil) {
        self.blocks = blocks
        self.epochProof = epochProof
        prunedAtHeight = nil
    }

    public init(prunedAtHeight: UInt64) {
        blocks = []
        epochProof = nil
        self.prunedAtHeight = prunedAtHeight
    }

    /// After the blocks a flag: 0 nothing, 1 an epoch proof, 2 pruned (the responder's height).
    public func encode(into writer: inout WireWriter) {
        writer.array(blocks) { $1.encode(into: &$0) }
        if let epochProof {
            writer.u8(1)
            epochProof.encode(into: &writer)
        } else if let prunedAtHeight {
            writer.u8(2)
            writer.u64(prunedAtHeight)
        } else {
            writer.u8(0)
        }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> BlockResponse {
        let blocks = try reader.array("sync blocks", limit: ConsensusLimits.maxSyncBlocks) {
            (r: inout WireReader) throws(WireError) in try Block.decode(from: &r)
        }
        switch try reader.u8("sync epoch proof flag") {
        case 0: return BlockResponse(blocks: blocks)
        case 1: return BlockResponse(blocks: blocks, epochProof: try EpochProof.decode(from: &reader))
        case 2:
            guard blocks.isEmpty else { throw .nonCanonical("a pruned answer carries no blocks") }
            return BlockResponse(prunedAtHeight: try reader.view("pruned answer height"))
        default: throw .nonCanonical("sync epoch proof flag")
        }
    }
}
