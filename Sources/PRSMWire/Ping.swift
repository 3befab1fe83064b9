/// Liveness probe. Payload: nonce u64.
public struct Ping: Hashable, Sendable {
    public let nonce: UInt64

    public init(nonce: UInt64) { self.nonce = nonce }

    public func encode(into writer: inout WireWriter) { writer.u64(nonce) }

    public static func decode(from reader: inout WireReader) throws(WireError) -> Ping {
        Ping(nonce: try reader.u64("ping nonce"))
    }
}
