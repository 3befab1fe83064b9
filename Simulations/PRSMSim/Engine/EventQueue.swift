import HeapModule

/// Future events of a simulation, ordered by virtual time and then by the order they were
/// scheduled, so ties never depend on anything but the run itself.
struct EventQueue {
    struct Entry: Comparable {
        let timeUs: UInt64
        let order: UInt64
        let id: Int
        static func < (a: Entry, b: Entry) -> Bool { (a.timeUs, a.order) < (b.timeUs, b.order) }
        static func == (a: Entry, b: Entry) -> Bool { a.order == b.order }
    }

    private var heap = Heap<Entry>()
    private var actions: [Int: () -> Void] = [:]
    private var nextOrder: UInt64 = 0
    private var nextID = 0

    var count: Int { actions.count }
    var nextTimeUs: UInt64? { heap.min?.timeUs }

    @discardableResult
    mutating func schedule(atUs time: UInt64, _ action: @escaping () -> Void) -> Int {
        nextID += 1
        nextOrder += 1
        heap.insert(Entry(timeUs: time, order: nextOrder, id: nextID))
        actions[nextID] = action
        return nextID
    }

    /// Removes a scheduled event (a cancelled timer); its heap entry is skipped when popped.
    mutating func cancel(_ id: Int) -> (() -> Void)? { actions.removeValue(forKey: id) }

    mutating func popNext() -> (timeUs: UInt64, action: () -> Void)? {
        while let entry = heap.popMin() {
            if let action = actions.removeValue(forKey: entry.id) { return (entry.timeUs, action) }
        }
        return nil
    }
}
