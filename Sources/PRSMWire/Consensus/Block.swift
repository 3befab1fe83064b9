/// A proposal: a batch of transactions on top of the block its QC certifies, plus the state root
/// the proposer's application reached after executing its committed height `executedHeight`
/// (in a pipelined 2-chain protocol a block's own root is known only after it commits, so roots
/// ride in later blocks). Identified by the BLAKE2b-256 of its header, which commits to the
/// transactions through `transactionRoot`. `timeoutCertificate` is present when the proposer
/// entered `view` through a TC instead of a QC for view − 1.
public struct Block: Hashable, Sendable {
    public let epoch: UInt64
    public let view: UInt64
    public let height: UInt64
    public let parent: Digest32
    public let justify: QuorumCertificate
    public let timeoutCertificate: TimeoutCertificate?
    public let proposer: Int
    public let executedHeight: UInt64
    public let stateRoot: Digest32
    public let transactions: [Transaction]
    public let transactionRoot: Digest32
    public let hash: Digest32

    public init(epoch: UInt64, view: UInt64, height: UInt64, parent: Digest32, justify: QuorumCertificate,
                timeoutCertificate: TimeoutCertificate?, proposer: Int, executedHeight: UInt64 = 0,
                stateRoot: Digest32 = .zero, transactions: [Transaction]) {
        self.epoch = epoch
        self.view = view
        self.height = height
        self.parent = parent
        self.justify = justify
        self.timeoutCertificate = timeoutCertificate
        self.proposer = proposer
        self.executedHeight = executedHeight
        self.stateRoot = stateRoot
        self.transactions = transactions
        transactionRoot = Self.root(of: transactions)
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
        writer.u64(executedHeight)
        writer.fixed(stateRoot.bytes)
        writer.fixed(transactionRoot.bytes)
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
        executedHeight = 0
        stateRoot = .zero
        transactions = []
        transactionRoot = Self.root(of: [])
        hash = Self.genesisHash
    }

    /// BLAKE2b-256 over the transactions' hashes in block order.
    public static func root(of transactions: [Transaction]) -> Digest32 {
        var writer = WireWriter()
        writer.fixed(Array("prsm-txs".utf8))
        for transaction in transactions { writer.fixed(transaction.hash.bytes) }
        return Blake2b.hash256(writer.bytesWritten)
    }

    /// The block every chain starts from: view 0, height 0, certified by the genesis QC.
    public static let genesis = Block(genesisOf: 0)

    /// Fixed, so the genesis QC can name it without a cycle.
    public static let genesisHash = Blake2b.hash256(Array("prsm-genesis-block".utf8))

    public var encodedSize: Int {
        var writer = WireWriter()
        encode(into: &writer)
        return writer.buffer.readableBytes
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.u64(view)
        writer.u64(height)
        writer.fixed(parent.bytes)
        justify.encode(into: &writer)
        if let timeoutCertificate {
            writer.u8(1)
            timeoutCertificate.encode(into: &writer)
        } else {
            writer.u8(0)
        }
        writer.u16(UInt16(proposer))
        writer.u64(executedHeight)
        writer.fixed(stateRoot.bytes)
        writer.array(transactions) { $1.encode(into: &$0) }
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Block {
        let epoch = try reader.u64("block epoch")
        let view = try reader.view("block view")
        let height = try reader.view("block height")
        let parent = try Digest32.decode(from: &reader, "block parent")
        let justify = try QuorumCertificate.decode(from: &reader)
        let timeoutCertificate: TimeoutCertificate?
        switch try reader.u8("block TC flag") {
        case 0: timeoutCertificate = nil
        case 1: timeoutCertificate = try TimeoutCertificate.decode(from: &reader)
        default: throw .nonCanonical("block TC flag")
        }
        let proposer = Int(try reader.u16("block proposer"))
        let executedHeight = try reader.u64("block executed height")
        let stateRoot = try Digest32.decode(from: &reader, "block state root")
        let transactions = try reader.array("block transactions", limit: ConsensusLimits.maxBlockTransactions) {
            (r: inout WireReader) throws(WireError) in try Transaction.decode(from: &r)
        }
        // The genesis block's hash is fixed, not computed: decoded (as a snapshot's epoch
        // anchor), it must be that same block again.
        if height == 0, view == 0, epoch == 0, parent == .zero, justify.isGenesis, timeoutCertificate == nil,
           proposer == 0, executedHeight == 0, stateRoot == .zero, transactions.isEmpty {
            return .genesis
        }
        return Block(epoch: epoch, view: view, height: height, parent: parent, justify: justify,
                     timeoutCertificate: timeoutCertificate, proposer: proposer, executedHeight: executedHeight,
                     stateRoot: stateRoot, transactions: transactions)
    }
}
