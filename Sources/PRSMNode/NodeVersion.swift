/// Versions this build speaks.
public enum NodeVersion {
    public static let software = "0.1.0"
    public static let protocolVersion: UInt16 = 1
}
