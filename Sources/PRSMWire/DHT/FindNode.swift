/// FIND_NODE: asks for the contacts closest to `target` the responder knows.
/// Payload: request header, target (32 bytes), padding.
public struct FindNode: Hashable, Sendable {
    public let header: DHTRequestHeader
    public let target: NodeID
    public let padding: Int

    public init(header: DHTRequestHeader, target: NodeID, padding: Int = 0) {
        self.header = header
        self.target = target
        self.padding = max(0, min(padding, DHTLimits.maxPadding))
    }

    public func encode(into writer: inout WireWriter) {
        header.encode(into: &writer)
        writer.fixed(target.bytes)
        Padding.encode(padding, into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> FindNode {
        let header = try DHTRequestHeader.decode(from: &reader)
        let target = NodeID(digest: try Digest32.decode(from: &reader, "find-node target"))
        return FindNode(header: header, target: target, padding: try Padding.decode(from: &reader))
    }
}
