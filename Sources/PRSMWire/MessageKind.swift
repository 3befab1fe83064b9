/// Stable numeric message kinds. The high byte names the subsystem (0x00 peers, 0x01 DHT,
/// 0x02 consensus, 0x03 ledger, 0x04 orchestrator, 0x05 safety); never renumber a kind.
public enum MessageKind: UInt16, Sendable, CaseIterable {
    case ping = 0x0001
    case pong = 0x0002
    case hello = 0x0003
}
