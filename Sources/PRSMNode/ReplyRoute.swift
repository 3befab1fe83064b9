/// Where a node sends its answer to the consensus message it is handling.
enum ReplyRoute: Equatable {
    /// Back on the inbound stream the message came on (a client's submission).
    case sameStream
    /// To the first address the consensus directory lists for this key.
    case knownAddresses(PublicKey)
    /// To the datagram's source address.
    case address(PeerAddress)
}
