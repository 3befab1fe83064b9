import PRSMWire

/// A proposal: a batch of transactions on top of the block its QC certifies. Identified by the
/// BLAKE2b-256 of its canonical encoding. `timeoutCertificate` is present when the proposer
/// entered `view` through a TC instead of a QC for view − 1.
public struct Block: Sendable, Equatable {
    public let epoch: UInt64
    public let view: UInt64
    public let height: UInt64
    public let parent: Digest32
    public let justify: QuorumCertificate
    public let timeoutCertificate: TimeoutCertificate?
    public let proposer: Int
    public let transactions: [[UInt8]]
    public let hash: Digest32

    public init(epoch: UInt64, view: UInt64, height: UInt64, parent: Digest32, justify: QuorumCertificate,
                timeoutCertificate: TimeoutCertificate?, proposer: Int, transactions: [[UInt8]]) {
        self.epoch = epoch
        self.view = view
        self.height = height
        self.parent = parent
        self.justify = justify
        self.timeoutCertificate = timeoutCertificate
        self.proposer = proposer
        self.transactions = transactions
        var writer = WireWriter()
        writer.fixed(Array("prsm-block".utf8))
        writer.u64(epoch)
        writer.u64(view)
        writer.u64(height)
        writer.fixed(parent.bytes)
        writer.u64(justify.view)
        writer.fixed(justify.blockHash.bytes)
        writer.u64(timeoutCertificate?.view ?? 0)
        writer.u32(UInt32(proposer))
        writer.array(transactions) { $0.bytes($1) }
        hash = Blake2b.hash256(writer.bytesWritten)
    }

    private init(genesisOf epoch: UInt64) {
        self.epoch = epoch
        view = 0
        height = 0
        parent = .zero
        justify = .genesis
        timeoutCertificate = nil
        proposer = 0
        transactions = []
        hash = Self.genesisHash
    }

    /// The block every chain starts from: view 0, height 0, certified by the genesis QC.
    public static let genesis = Block(genesisOf: 0)

    /// Fixed, so the genesis QC can name it without a cycle.
    public static let genesisHash = Blake2b.hash256(Array("prsm-genesis-block".utf8))
}
