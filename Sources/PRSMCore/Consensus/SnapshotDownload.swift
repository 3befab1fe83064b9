/// A certified snapshot being fetched from one peer, chunk by chunk, by a node that trusts only
/// its own epoch's validators. The first chunk's certificates are checked before anything is
/// kept: each epoch link signed by a quorum of the set before it and naming the next set by
/// hash, then the snapshot's certificate signed by the last set. The assembled bytes must hash
/// to the certified snapshot hash and decode to the certified block and validators, so the
/// peer need not be trusted at all.
public struct SnapshotDownload: Sendable {
    public let peer: PublicKey
    public let certificate: CheckpointCertificate
    public let count: UInt32
    public private(set) var nextChunk: UInt32 = 0
    public private(set) var bytes: [UInt8] = []
    /// Signatures checked to accept the first chunk (for the CPU model).
    public let signaturesChecked: Int

    public var checkpoint: Checkpoint { certificate.checkpoint }
    public var isComplete: Bool { nextChunk == count }

    /// Checks `first` (chunk 0) against `trusted`; refuses anything not above `knownHeight`.
    public init(first chunk: SnapshotChunk, from peer: PublicKey, trusted: ValidatorSet,
                knownHeight: UInt64) throws(StateSyncRefusal) {
        guard chunk.index == 0 else { throw .outOfOrder }
        guard chunk.certificate.checkpoint.height > knownHeight else { throw .notAhead }
        var (set, checked) = try Self.follow(chunk.links, from: trusted)
        checked += chunk.certificate.votes.count
        guard chunk.certificate.isValid(for: set) else { throw .badCertificate("snapshot at \(chunk.certificate.checkpoint.height)") }
        // The certified size fixes the chunk count (and so what may be buffered).
        guard chunk.certificate.checkpoint.chunkCount <= ConsensusLimits.maxSnapshotChunks,
              Int(chunk.count) == chunk.certificate.checkpoint.chunkCount else { throw .otherSnapshot }
        self.peer = peer
        certificate = chunk.certificate
        count = chunk.count
        signaturesChecked = checked
        try add(chunk)
    }

    /// The validator set `links` lead to from `trusted`: each link must be the certified end of
    /// the epoch of the set before it, naming the next set by hash. Also returns the signatures
    /// checked (for the CPU model). A node more than `ConsensusLimits.maxEpochLinks` epochs
    /// behind is sent that many links at a time and walks them with this before it asks again.
    public static func follow(_ links: [SnapshotChunk.EpochLink],
                              from trusted: ValidatorSet) throws(StateSyncRefusal) -> (ValidatorSet, Int) {
        var set = trusted
        var checked = 0
        for link in links {
            checked += link.certificate.votes.count
            guard link.certificate.checkpoint.epoch == set.epoch, link.certificate.isValid(for: set) else {
                throw .badCertificate("epoch \(set.epoch)'s last checkpoint")
            }
            guard link.next.epoch == set.epoch + 1, link.next.digest == link.certificate.checkpoint.validatorsHash else {
                throw .badCertificate("validators of epoch \(set.epoch + 1)")
            }
            set = link.next
        }
        return (set, checked)
    }

    /// The next chunk, from the same peer and for the same certificate. A chunk already taken
    /// (the answer to a repeated request) changes nothing.
    public mutating func add(_ chunk: SnapshotChunk) throws(StateSyncRefusal) {
        guard chunk.certificate == certificate, chunk.count == count else { throw .otherSnapshot }
        if chunk.index < nextChunk { return }
        guard chunk.index == nextChunk else { throw .outOfOrder }
        let expected = chunk.index + 1 == count
            ? Int(checkpoint.snapshotSize) - Int(chunk.index) * ConsensusLimits.snapshotChunkBytes
            : ConsensusLimits.snapshotChunkBytes
        guard chunk.bytes.count == expected else { throw .shortChunk }
        bytes += chunk.bytes
        nextChunk += 1
    }

    /// The snapshot, once every chunk came and the whole matches the certificate.
    public func snapshot() throws(StateSyncRefusal) -> ConsensusSnapshot {
        guard isComplete else { throw .outOfOrder }
        guard Blake2b.hash256(bytes) == checkpoint.snapshotHash else { throw .hashMismatch }
        let snapshot: ConsensusSnapshot
        do { snapshot = try ConsensusSnapshot.decode(bytes) } catch { throw .undecodable("\(error)") }
        guard snapshot.block.hash == checkpoint.blockHash, snapshot.height == checkpoint.height,
              snapshot.validators.digest == checkpoint.validatorsHash else {
            throw .hashMismatch
        }
        return snapshot
    }
}

/// Why a snapshot chunk was refused.
public enum StateSyncRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case notAhead
    case outOfOrder
    case otherSnapshot
    case shortChunk
    case badCertificate(String)
    case hashMismatch
    case undecodable(String)

    public var description: String {
        switch self {
        case .notAhead: return "snapshot not above our committed height"
        case .outOfOrder: return "snapshot chunk out of order"
        case .otherSnapshot: return "chunk of another snapshot"
        case .shortChunk: return "snapshot chunk of the wrong length"
        case let .badCertificate(what): return "certificate does not hold: \(what)"
        case .hashMismatch: return "snapshot does not match its certificate"
        case let .undecodable(reason): return "snapshot does not decode: \(reason)"
        }
    }
}
