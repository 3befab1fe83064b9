/// Errors of node assembly and operation, with messages an operator can act on.
public enum NodeError: Error, CustomStringConvertible, Sendable {
    case notInitialized(String)
    case alreadyInitialized(String)
    case locked(String)
    case badConfig(String, String)
    case badGenesis(String, String)
    case io(String, String)
    case apiUnavailable(String)

    public var description: String {
        switch self {
        case let .notInitialized(dir):
            return "\(dir) is not a PRSM data directory; run `prsm-node init --data-dir \(dir)` first"
        case let .alreadyInitialized(dir):
            return "\(dir) already holds a node identity or validator key; refusing to overwrite it "
                + "(use another --data-dir, or move the old directory away yourself)"
        case let .locked(dir):
            return "another prsm-node is already running with \(dir) (its lock is held); "
                + "two processes with one key would equivocate"
        case let .badConfig(path, why): return "config \(path): \(why)"
        case let .badGenesis(path, why): return "genesis \(path): \(why)"
        case let .io(path, why): return "\(path): \(why)"
        case let .apiUnavailable(why): return "local API not reachable: \(why) (is `prsm-node run` running?)"
        }
    }
}
