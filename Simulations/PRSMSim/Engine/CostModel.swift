import Foundation
import PRSMNode

/// Virtual CPU prices for expensive work, in whole nanoseconds, measured on a real machine by
/// `prsm-sim calibrate` and committed as Simulations/costs.json. A run records the prices it
/// used in summary.json and `replay` reuses them, so traces stay reproducible.
public struct CostModel: Codable, Sendable, Equatable {
    public var sign_ns: UInt64
    public var verify_ns: UInt64
    public var byte_ns_per_kib: UInt64
    public var calibrated_on: String?

    public static let free = CostModel(sign_ns: 0, verify_ns: 0, byte_ns_per_kib: 0, calibrated_on: "no CPU model")

    public var isFree: Bool { sign_ns == 0 && verify_ns == 0 && byte_ns_per_kib == 0 }

    public func cost(_ work: CPUWork) -> UInt64 {
        switch work {
        case .sign: return sign_ns
        case .verify: return verify_ns
        case let .bytes(count): return UInt64(count) * byte_ns_per_kib / 1_024
        }
    }

    public static func load(path: String) throws -> CostModel {
        try JSONDecoder().decode(CostModel.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Prices from a crypto benchmark: the raw libsodium rates, so the model charges what the
    /// machine's crypto costs, not our overheads.
    public static func calibrated(from report: BenchReport) -> CostModel {
        func rate(_ key: String) -> Double {
            if case let .double(value)? = report.results[key] { return value }
            return 0
        }
        return CostModel(
            sign_ns: UInt64((1e9 / rate("raw_sign_per_s")).rounded()),
            verify_ns: UInt64((1e9 / rate("raw_verify_per_s")).rounded()),
            byte_ns_per_kib: UInt64((1e9 / (rate("blake2b_mb_per_s") * 1_024)).rounded()),
            calibrated_on: "\(report.machine.model), \(report.machine.cores) cores, commit \(report.commit)")
    }
}

/// One node's virtual CPU: work queues up behind earlier work; the node reads its next input
/// only when the CPU is free, and what it sends leaves when the signing is done.
final class SimCPU: @unchecked Sendable {
    private let world: SimWorld
    private let model: CostModel
    private(set) var busyUntilNs: UInt64 = 0
    private(set) var totalNs: UInt64 = 0
    /// Signatures made and checked (for the consensus benchmark's bound).
    private(set) var signs: UInt64 = 0
    private(set) var verifies: UInt64 = 0

    init(world: SimWorld, model: CostModel) {
        self.world = world
        self.model = model
    }

    func charge(_ work: CPUWork) {
        switch work {
        case .sign: signs += 1
        case .verify: verifies += 1
        case .bytes: break
        }
        let cost = model.cost(work)
        guard cost > 0 else { return }
        busyUntilNs = max(busyUntilNs, world.nowUs * 1_000) + cost
        totalNs += cost
    }

    /// When work charged so far will be done, in world microseconds (rounded up).
    var freeAtUs: UInt64 { max(world.nowUs, (busyUntilNs + 999) / 1_000) }

    /// Suspends until the CPU is free (false if cancelled meanwhile).
    func waitUntilFree() async -> Bool {
        do { try await world.sleep(untilUs: freeAtUs) } catch { return false }
        return true
    }
}
