/// Stable numeric message kinds. The high byte names the subsystem (0x00 peers, 0x01 DHT,
/// 0x02 consensus, 0x03 ledger, 0x04 orchestrator, 0x05 safety); never renumber a kind.
public enum MessageKind: UInt16, Sendable, CaseIterable {
    case ping = 0x0001
    case pong = 0x0002
    case hello = 0x0003
    case helloReply = 0x0004
    case dialBackRequest = 0x0005
    case dialBackRelay = 0x0006
    case dialBackProbe = 0x0007
    case dialBackRelayed = 0x0008

    case findNode = 0x0101
    case nodes = 0x0102
    case findValue = 0x0103
    case value = 0x0104
    case store = 0x0105
    case stored = 0x0106

    case proposal = 0x0201
    case vote = 0x0202
    case timeout = 0x0203
    case transaction = 0x0204
    case blockRequest = 0x0205
    case blockResponse = 0x0206
    case checkpointVote = 0x0207
    case snapshotRequest = 0x0208
    case snapshotChunk = 0x0209
    case submission = 0x020A
    case transactionReport = 0x020B
}
