/// State sync: "send me chunk `chunk` of your certified snapshot". `height` 0 asks for the
/// newest one above `knownHeight` (the requester's committed height); a requester that is
/// downloading names the height it started on. `epoch` is the requester's: the answer proves
/// every epoch change from there to the snapshot's. A datagram; the answer is a stream frame.
public struct SnapshotRequest: Hashable, Sendable {
    public let epoch: UInt64
    public let knownHeight: UInt64
    public let height: UInt64
    public let chunk: UInt32

    public init(epoch: UInt64, knownHeight: UInt64, height: UInt64 = 0, chunk: UInt32 = 0) {
        self.epoch = epoch
        self.knownHeight = knownHeight
        self.height = height
        self.chunk = chunk
    }

    public func encode(into writer: inout WireWriter) {
        writer.u64(epoch)
        writer.u64(knownHeight)
        writer.u64(height)
        writer.u32(chunk)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> SnapshotRequest {
        SnapshotRequest(epoch: try reader.u64("snapshot request epoch"), knownHeight: try reader.view("snapshot known height"),
                        height: try reader.view("snapshot height"), chunk: try reader.u32("snapshot chunk"))
    }
}
