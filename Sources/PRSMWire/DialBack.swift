/// Reachability check (as libp2p AutoNAT). A asks B with `request`; B asks a third node C with
/// `relay` to send `probe` to the address B saw A at, and tells A which node it asked with
/// `relayed`. A probe that reaches A from a node A has not sent to recently proves that A can be
/// reached unsolicited. Payload: nonce u64 (`relay`: and target; `relayed`: and the relay's address).
public enum DialBack: Hashable, Sendable {
    case request(nonce: UInt64)
    case relay(nonce: UInt64, target: PeerAddress)
    case probe(nonce: UInt64)
    case relayed(nonce: UInt64, via: PeerAddress)

    public func encode(into writer: inout WireWriter) {
        switch self {
        case let .request(nonce), let .probe(nonce):
            writer.u64(nonce)
        case let .relay(nonce, target), let .relayed(nonce, target):
            writer.u64(nonce)
            target.encode(into: &writer)
        }
    }
}
