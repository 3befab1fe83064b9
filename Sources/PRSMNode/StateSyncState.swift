/// What the shell keeps for state sync: the certified snapshot it serves, the snapshots it took
/// that still wait for their certificate, and the download in progress, if any.
struct StateSyncState: Sendable {
    struct Served: Sendable, Equatable {
        let certificate: CheckpointCertificate
        let chunks: UInt32
        var height: UInt64 { certificate.checkpoint.height }
    }

    var served: Served?
    /// Checkpoints stored but not certified yet: height → chunk count (the newest few).
    var taken: [UInt64: UInt32] = [:]
    var download: SnapshotDownload?
    /// The newest validator set proven by epoch links so far, when it is past our own epoch: a
    /// node more than `ConsensusLimits.maxEpochLinks` epochs behind gets the links in pages and
    /// asks for the next page from here. Nil once it is no further than the replica's.
    var linkedSet: ValidatorSet?
    /// When the download last moved; a peer silent for `stallMs` is given up.
    var downloadProgressMs: UInt64 = 0
    var nextRequestMs: UInt64 = 0
    /// When we last asked for a snapshot: a first chunk is taken only shortly after (a peer must
    /// not make an up-to-date node drop its mempool and start over whenever it likes).
    var askedMs: UInt64?
    var cursor = 0
    /// The heights validators' proposals and sync answers showed.
    var claims = ChainHeightClaims()
    /// Our committed height when last looked at, and since when it has not moved.
    var watchedHeight: UInt64 = 0
    var watchedSinceMs: UInt64 = 0
    var adopted: UInt64 = 0

    static let maxTaken = 3
    static let stallMs: UInt64 = 5_000
    static let requestIntervalMs: UInt64 = 1_000
    /// A chunk not here by then is asked for again (a repeat is ignored if both arrive).
    static let chunkRetryMs: UInt64 = 2_000
    /// Behind and not moving for this long: block sync is not getting anywhere (peers pruned
    /// what we need), so a snapshot is the way on.
    static let stuckMs: UInt64 = 5_000
}
