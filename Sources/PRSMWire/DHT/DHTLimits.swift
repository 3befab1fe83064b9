/// Sizes every DHT message is held to, so each one fits a single datagram (`Envelope.maxDatagramSize`).
public enum DHTLimits {
    /// Contacts in one `Nodes` reply (Kademlia's k); a sender trims to fit the datagram.
    public static let maxContacts = 20
    /// Largest value a STORE may carry. Larger content goes over TCP as blobs.
    public static let maxValueSize = 900
    /// Address tokens are exactly this long, or absent.
    public static let tokenSize = 16
    /// Requests may be padded up to this many zero bytes (an unproven requester pads so that the
    /// 3× anti-amplification budget covers a full reply). The largest padded request, a FIND_NODE
    /// or FIND_VALUE with a token, is then exactly one datagram: 155 envelope + 29 header (id 8,
    /// flags 1, token 4 + 16) + 32 target + 4 padding length + 980 = 1200.
    public static let maxPadding = 980
}
