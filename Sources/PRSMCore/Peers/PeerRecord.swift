import PRSMWire

/// How the peer table stores a `KnownPeer`. A node at 10,000 simulated nodes holds hundreds of
/// peers, and every byte here is paid about twice (hash-table slots run half empty), so the
/// record drops what it can rebuild: the key (the table's own key), the round-trip time's
/// optional (32 bits, `.max` when unmeasured) and, for the usual peer whose Hello says it listens
/// exactly where its messages come from, the listen-address array (a heap block per peer).
struct PeerRecord: Sendable {
    var lastSeenMs: UInt64
    private(set) var address: PeerAddress
    private var rtt: UInt32 = .max
    var roles: Roles
    /// True when the peer's listen addresses are exactly `[address]`; `announced` is then empty.
    private var listensAtAddress = false
    private var announced: [PeerAddress] = []

    init(address: PeerAddress, lastSeenMs: UInt64) {
        self.address = address
        self.lastSeenMs = lastSeenMs
        roles = []
    }

    init(_ peer: KnownPeer) {
        self.init(address: peer.address, lastSeenMs: peer.lastSeenMs)
        roles = peer.roles
        if let rttMs = peer.rttMs { self.rttMs = rttMs }
        listenAddresses = peer.listenAddresses
    }

    var rttMs: UInt64? {
        get { rtt == .max ? nil : UInt64(rtt) }
        set { rtt = newValue.map { UInt32(min($0, UInt64(UInt32.max - 1))) } ?? .max }
    }

    var listenAddresses: [PeerAddress] {
        get { listensAtAddress ? [address] : announced }
        set {
            listensAtAddress = newValue == [address]
            // A listen address equal to the source is kept as the source's value, so the two
            // share one host array rather than a decoded copy per peer.
            announced = listensAtAddress ? [] : newValue.map { $0 == address ? address : $0 }
        }
    }

    /// The peer's messages now come from `newAddress`; the listen addresses its Hello announced
    /// stay what they were.
    mutating func move(to newAddress: PeerAddress) {
        guard newAddress != address else { return }
        if listensAtAddress {
            announced = [address]
            listensAtAddress = false
        }
        address = newAddress
    }

    func knownPeer(key: PublicKey) -> KnownPeer {
        KnownPeer(key: key, address: address, lastSeenMs: lastSeenMs, rttMs: rttMs, roles: roles,
                  listenAddresses: listenAddresses)
    }
}
