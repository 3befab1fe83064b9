/// A topology file that cannot be used, with the JSON path of the first problem.
public struct TopologyError: Error, Equatable, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public var description: String { "\(path): \(message)" }
}
