/// One chunk of a certified state snapshot (an encoded `ConsensusSnapshot`), with what lets a
/// node that trusts only its own epoch's validators check it: the certificates of every epoch
/// change from the requester's epoch to the snapshot's (`links`) and the snapshot's own
/// certificate. The assembled bytes must hash to `certificate.checkpoint.snapshotHash`.
public struct SnapshotChunk: Hashable, Sendable {
    /// An epoch's last checkpoint, signed by that epoch, naming the next set (given in full).
    public struct EpochLink: Hashable, Sendable {
        public let certificate: CheckpointCertificate
        public let next: ValidatorSet

        public init(certificate: CheckpointCertificate, next: ValidatorSet) {
            self.certificate = certificate
            self.next = next
        }

        public func encode(into writer: inout WireWriter) {
            certificate.encode(into: &writer)
            next.encode(into: &writer)
        }

        public static func decode(from reader: inout WireReader) throws(WireError) -> EpochLink {
            EpochLink(certificate: try CheckpointCertificate.decode(from: &reader),
                      next: try ValidatorSet.decode(from: &reader, "next validators"))
        }
    }

    public let links: [EpochLink]
    public let certificate: CheckpointCertificate
    public let index: UInt32
    public let count: UInt32
    public let bytes: [UInt8]

    public init(links: [EpochLink], certificate: CheckpointCertificate, index: UInt32, count: UInt32, bytes: [UInt8]) {
        self.links = links
        self.certificate = certificate
        self.index = index
        self.count = count
        self.bytes = bytes
    }

    public func encode(into writer: inout WireWriter) {
        writer.array(links) { $1.encode(into: &$0) }
        certificate.encode(into: &writer)
        writer.u32(index)
        writer.u32(count)
        writer.bytes(bytes)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> SnapshotChunk {
        let links = try reader.array("epoch links", limit: ConsensusLimits.maxEpochLinks) {
            (r: inout WireReader) throws(WireError) in try EpochLink.decode(from: &r)
        }
        let certificate = try CheckpointCertificate.decode(from: &reader)
        let index = try reader.u32("chunk index")
        let count = try reader.u32("chunk count")
        guard count >= 1, count <= ConsensusLimits.maxSnapshotChunks, index < count else {
            throw .nonCanonical("snapshot chunk \(index) of \(count)")
        }
        let bytes = try reader.bytes("chunk bytes", limit: ConsensusLimits.snapshotChunkBytes)
        return SnapshotChunk(links: links, certificate: certificate, index: index, count: count, bytes: bytes)
    }
}
