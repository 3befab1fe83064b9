import PRSMNode
import Synchronization

/// Every admission decision of every node, checked for the property PRSMSim's ReplayChecker
/// ("no-replay-accepted") checks in the simulator: no envelope is accepted twice by one receiver,
/// nor outside the receiver's timestamp tolerance. Fed by each node's `options.observer`, on the
/// node's executor, so it locks.
final class AcceptanceLedger: Sendable {
    struct Receipt: Hashable {
        let receiver: Int
        let sender: PublicKey
        let sequence: UInt64
    }

    private struct State {
        var acceptances: [Receipt: Int] = [:]
        var accepted: UInt64 = 0
        var replayedDrops: [Int: UInt64] = [:]
        var firstViolation: String?
    }

    let toleranceMs: UInt64
    private let state = Mutex(State())

    init(toleranceMs: UInt64) { self.toleranceMs = toleranceMs }

    /// What `receiver` decided at `nowMs` on its own (possibly skewed) clock.
    func observe(_ observation: NodeObservation, receiver: Int, nowMs: UInt64) {
        state.withLock { state in
            switch observation {
            case let .accepted(sender, sequence, timestamp, _):
                state.accepted += 1
                let key = Receipt(receiver: receiver, sender: sender, sequence: sequence)
                state.acceptances[key, default: 0] += 1
                guard state.firstViolation == nil else { return }
                if state.acceptances[key] == 2 {
                    state.firstViolation = "node \(receiver) accepted sequence \(sequence) from \(sender) twice"
                } else if timestamp + toleranceMs < nowMs || timestamp > nowMs + toleranceMs {
                    state.firstViolation =
                        "node \(receiver) accepted a message stamped \(timestamp) at \(nowMs), outside ±\(toleranceMs) ms"
                }
            case .dropped(.replayed):
                state.replayedDrops[receiver, default: 0] += 1
            default:
                break
            }
        }
    }

    var firstViolation: String? { state.withLock { $0.firstViolation } }
    var accepted: UInt64 { state.withLock { $0.accepted } }
    var replayedDrops: UInt64 { state.withLock { $0.replayedDrops.values.reduce(0, +) } }

    func replayedDrops(at receiver: Int) -> UInt64 { state.withLock { $0.replayedDrops[receiver, default: 0] } }

    func acceptances(at receiver: Int, from sender: PublicKey, sequence: UInt64) -> Int {
        state.withLock { $0.acceptances[Receipt(receiver: receiver, sender: sender, sequence: sequence), default: 0] }
    }
}
