/// What a node keeps so it can prune the blocks below `block` and still restart: the committed
/// block at the snapshot height, the epoch it belongs to (its validators and the block the epoch
/// started on) and the application's state after executing it. Local, trusted data: it is read
/// only from the node's own store.
public struct ConsensusSnapshot: Sendable, Equatable {
    public let block: Block
    public let validators: ValidatorSet
    public let epochAnchor: Block
    public let application: [UInt8]

    public init(block: Block, validators: ValidatorSet, epochAnchor: Block, application: [UInt8]) {
        self.block = block
        self.validators = validators
        self.epochAnchor = epochAnchor
        self.application = application
    }

    public var height: UInt64 { block.height }

    /// The length travels as a u32.
    static let maxApplicationBytes = Int(UInt32.max)

    public func encode() -> [UInt8] {
        var writer = WireWriter()
        block.encode(into: &writer)
        validators.encode(into: &writer)
        epochAnchor.encode(into: &writer)
        writer.bytes(application)
        return writer.bytesWritten
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> ConsensusSnapshot {
        var reader = WireReader(bytes: bytes)
        let block = try Block.decode(from: &reader)
        let validators = try ValidatorSet.decode(from: &reader, "snapshot validators")
        let anchor = try Block.decode(from: &reader)
        let application = try reader.bytes("snapshot application state", limit: maxApplicationBytes)
        try reader.finish()
        return ConsensusSnapshot(block: block, validators: validators, epochAnchor: anchor, application: application)
    }
}
