import PRSMCrypto

/// What validators attest to at a checkpoint height (every `checkpointInterval` blocks, and at
/// the last block of each epoch): the committed block, the hash of the state snapshot taken
/// right after executing it, and the hash of the validator set that runs after it. A quorum of
/// the epoch's validators signing this lets a node that was not there start from the snapshot:
/// more than a third of the power is honest and computed the same snapshot. At an epoch's last
/// block `validatorsHash` names the next set, so such certificates chain from genesis to any
/// later epoch.
public struct Checkpoint: Hashable, Sendable {
    public let epoch: UInt64
    public let height: UInt64
    public let blockHash: Digest32
    public let snapshotHash: Digest32
    /// The snapshot's length in bytes: a node fetching it knows how many chunks to expect and
    /// never buffers more.
    public let snapshotSize: UInt64
    public let validatorsHash: Digest32

    public init(epoch: UInt64, height: UInt64, blockHash: Digest32, snapshotHash: Digest32, snapshotSize: UInt64,
                validatorsHash: Digest32) {
        self.epoch = epoch
        self.height = height
        self.blockHash = blockHash
        self.snapshotHash = snapshotHash
        self.snapshotSize = snapshotSize
        self.validatorsHash = validatorsHash
    }

    /// Chunks of `ConsensusLimits.snapshotChunkBytes` the snapshot travels in.
    public var chunkCount: Int {
        max(1, Int((snapshotSize + UInt64(ConsensusLimits.snapshotChunkBytes) - 1) / UInt64(ConsensusLimits.snapshotChunkBytes)))
    }

    /// Domain-separated from votes and timeouts.
    public var signingBytes: [UInt8] {
        var writer = WireWriter()
        writer.fixed(Array("prsm-checkpoint".utf8))
        encode(into: &writer)
        return writer.bytesWritten
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.u64(height)
        writer.fixed(blockHash.bytes)
        writer.fixed(snapshotHash.bytes)
        writer.u64(snapshotSize)
        writer.fixed(validatorsHash.bytes)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Checkpoint {
        Checkpoint(epoch: try reader.u64("checkpoint epoch"), height: try reader.view("checkpoint height"),
                   blockHash: try Digest32.decode(from: &reader, "checkpoint block"),
                   snapshotHash: try Digest32.decode(from: &reader, "checkpoint snapshot"),
                   snapshotSize: try reader.u64("checkpoint snapshot size"),
                   validatorsHash: try Digest32.decode(from: &reader, "checkpoint validators"))
    }
}
