/// What a node offers, as a bit set: validator 1, provider 2, client 4. Other bits are
/// non-canonical and rejected.
public struct Roles: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let validator = Roles(rawValue: 1)
    public static let provider = Roles(rawValue: 2)
    public static let client = Roles(rawValue: 4)
    public static let known: Roles = [.validator, .provider, .client]

    public var names: [String] {
        [(Roles.validator, "validator"), (.provider, "provider"), (.client, "client")]
            .filter { contains($0.0) }.map(\.1)
    }

    public init(names: [String]) throws(WireError) {
        var roles: Roles = []
        for name in names {
            switch name {
            case "validator": roles.insert(.validator)
            case "provider": roles.insert(.provider)
            case "client": roles.insert(.client)
            default: throw .nonCanonical("unknown role \(name)")
            }
        }
        self = roles
    }
}
