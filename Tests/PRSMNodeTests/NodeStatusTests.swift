import PRSMNode
import Testing

@Suite("Node.status")
struct NodeStatusTests {
    @Test func uptimeFollowsTheClock() async {
        let harness = NodeHarness()
        #expect(await harness.node.status().uptimeSeconds == 0)
        harness.clock.advance(byMs: 90_500)
        #expect(await harness.node.status().uptimeSeconds == 90)
    }

    /// The wall clock can be stepped back (NTP, an operator); status must not trap.
    @Test func clockSteppingBackGivesZeroUptime() async {
        let harness = NodeHarness()
        harness.clock.set(harness.clock.nowMs - 60_000)
        #expect(await harness.node.status().uptimeSeconds == 0)
    }
}
