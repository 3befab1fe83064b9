/// Hooks that let PRSMSimTests break a run on purpose, so every checker can be shown to fail.
/// Kept out of Simulation.swift; they use only internal members.
extension Simulation {
    /// From the start of the run, node `name`'s inbox ignores `close()`: at shutdown its
    /// `<name>#<incarnation>.run` task stays suspended on a continuation nobody resumes, which
    /// `no-deadlock` must report by name. Call before `run()`; affects the first incarnation only.
    func strandInboxAtShutdown(of name: String) {
        guard let index = topology.index(of: name) else { preconditionFailure("no node named \(name)") }
        world.schedule(atUs: 0) { [self] in nodes[index].transport?.inbox.ignoresClose = true }
    }
}
