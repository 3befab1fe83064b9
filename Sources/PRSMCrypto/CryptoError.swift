/// Errors of PRSMCrypto, each with a message a user can act on.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidLength(what: String, expected: Int, actual: Int)
    case invalidHex(String)
    case keyFileMissing(path: String)
    case keyFileTooOpen(path: String, mode: UInt16)
    case keyFileCorrupt(path: String, reason: String)
    case keyFileExists(path: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case let .invalidHex(text):
            return "not valid hexadecimal: \(text.prefix(16))…"
        case let .keyFileMissing(path):
            return "key file \(path) does not exist; create one with `prsm-node init`"
        case let .keyFileTooOpen(path, mode):
            return "key file \(path) has mode \(String(mode, radix: 8)), readable by group or others; "
                + "fix it with `chmod 600 \(path)` (and check nobody else has copied it)"
        case let .keyFileCorrupt(path, reason):
            return "key file \(path) is corrupt (\(reason)); restore it from a backup, "
                + "or move it away and run `prsm-node init` to create a new identity"
        case let .keyFileExists(path):
            return "key file \(path) already exists; refusing to overwrite an identity"
        case let .io(path, reason):
            return "cannot access \(path): \(reason)"
        }
    }
}
