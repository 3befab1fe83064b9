import PRSMNode

/// No store storm: STOREs accepted network-wide ÷ puts stays under a stated bound (the Python
/// Kademlia re-replicated on every reply from a cached contact and never calmed down).
final class StoreStormChecker: SimChecker {
    let name = "dht-no-store-storm"
    let maxStoresPerPut: Int
    private var stores = 0

    init(maxStoresPerPut: Int) { self.maxStoresPerPut = maxStoresPerPut }

    func observe(_ observation: SimObservation) {
        if case let .message(_, _, kind) = observation, kind == MessageKind.store.rawValue { stores += 1 }
    }

    func verdict(_ simulation: Simulation) -> CheckResult {
        let puts = simulation.dhtStats.putsStarted
        guard puts > 0 else {
            return CheckResult(name: name, passed: stores == 0, message: "no puts; \(stores) STOREs accepted")
        }
        let perPut = Double(stores) / Double(puts)
        let passed = stores <= maxStoresPerPut * puts
        return CheckResult(name: name, passed: passed, message:
            "\(stores) STOREs accepted for \(puts) puts (\(String(format: "%.1f", perPut)) per put; bound \(maxStoresPerPut))")
    }
}
