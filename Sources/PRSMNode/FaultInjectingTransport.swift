import NIOCore
import Synchronization

/// A `DatagramTransport` around another one that injects network faults, for tests on real
/// sockets (DESIGN.md "Addresses in tests": without `tc netem`, partitions come from deny lists).
///
/// - A deny list of remote addresses: datagrams sent to a denied address and datagrams received
///   from one are dropped and counted, as a partition drops them. Denying an address on one node
///   cuts both directions between the two; a partition denies on both sides.
/// - Optional per-datagram faults on what passes the deny list, decided by counting, not by
///   randomness: every `loseEvery`-th sent datagram is lost, every `duplicateEvery`-th is sent
///   twice (a receiver must drop the copy as a replay).
///
/// It never delays or reorders (that would need timers; the simulator models latency) and it is
/// safe to reconfigure from any thread while the node runs.
public final class FaultInjectingTransport: DatagramTransport {
    /// What the wrapper did to traffic so far.
    public struct Counts: Sendable, Equatable {
        /// Sends to a denied address.
        public var deniedOutbound: UInt64 = 0
        /// Datagrams received from a denied address.
        public var deniedInbound: UInt64 = 0
        /// Sends dropped by `loseEvery`.
        public var lost: UInt64 = 0
        /// Extra copies sent by `duplicateEvery`.
        public var duplicated: UInt64 = 0

        public var dropped: UInt64 { deniedOutbound + deniedInbound + lost }

        public init() {}
    }

    /// Per-datagram faults on sends that pass the deny list; 0 turns one off.
    public struct Faults: Sendable, Equatable {
        public var loseEvery: UInt64 = 0
        public var duplicateEvery: UInt64 = 0

        public init(loseEvery: UInt64 = 0, duplicateEvery: UInt64 = 0) {
            self.loseEvery = loseEvery
            self.duplicateEvery = duplicateEvery
        }
    }

    private struct State {
        var denied: Set<PeerAddress> = []
        var faults = Faults()
        /// Sends that passed the deny list: the count `faults` apply to.
        var passed: UInt64 = 0
        var counts = Counts()
    }

    public let inner: any DatagramTransport
    private let state = Mutex(State())

    public init(wrapping inner: any DatagramTransport) {
        self.inner = inner
    }

    public var localAddress: PeerAddress { inner.localAddress }

    /// Adds `addresses` to the deny list.
    public func block(_ addresses: [PeerAddress]) {
        state.withLock { $0.denied.formUnion(addresses) }
    }

    /// Empties the deny list (the per-datagram faults stay as set).
    public func heal() {
        state.withLock { $0.denied.removeAll() }
    }

    /// The denied addresses, sorted.
    public var denied: [PeerAddress] { state.withLock { $0.denied.sorted() } }

    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    public var counts: Counts { state.withLock { $0.counts } }

    public func send(_ bytes: ByteBuffer, to address: PeerAddress) {
        // Decide under the lock, send outside it.
        let copies = state.withLock { state -> Int in
            if state.denied.contains(address) {
                state.counts.deniedOutbound += 1
                return 0
            }
            state.passed += 1
            let (lose, duplicate) = (state.faults.loseEvery, state.faults.duplicateEvery)
            if lose > 0, state.passed % lose == 0 {
                state.counts.lost += 1
                return 0
            }
            if duplicate > 0, state.passed % duplicate == 0 {
                state.counts.duplicated += 1
                return 2
            }
            return 1
        }
        for _ in 0..<copies { inner.send(bytes, to: address) }
    }

    public func deliver(to handler: @Sendable ([InboundDatagram]) async -> Void) async {
        await inner.deliver { batch in
            let kept = self.state.withLock { state -> [InboundDatagram] in
                guard !state.denied.isEmpty else { return batch }
                let kept = batch.filter { !state.denied.contains($0.source) }
                state.counts.deniedInbound += UInt64(batch.count - kept.count)
                return kept
            }
            if !kept.isEmpty { await handler(kept) }
        }
    }
}
