#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes private key files. A key file holds the 32-byte seed and the public key it
/// derives (a checksum against silent corruption). It is created with mode 0600 and never
/// overwritten; a file readable by group or others is refused.
public enum KeyFile {
    static let header = "# PRSM private key. Keep this file private: mode 0600, never share or commit it."
    static let kindLine = "kind: ed25519-seed"

    public static func write(_ key: SigningKey, to path: String) throws(CryptoError) {
        let seed = key.exportSeed()
        let text = "\(header)\n\(kindLine)\nseed: \(Hex.encode(seed))\npublic: \(key.publicKey.hex)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .keyFileExists(path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw .io(path: path, reason: "short write or fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    public static func read(from path: String) throws(CryptoError) -> SigningKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw .keyFileMissing(path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt16(info.st_mode & 0o777)
        guard mode & 0o077 == 0 else { throw .keyFileTooOpen(path: path, mode: mode) }
        guard info.st_size <= 4096 else { throw .keyFileCorrupt(path: path, reason: "file is \(info.st_size) bytes") }
        let text = try readSmallFile(path)
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(CryptoError) -> SigningKey {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else {
                throw .keyFileCorrupt(path: path, reason: "unexpected line")
            }
            let name = line[..<colon].trimmingSpaces()
            fields[name] = line[line.index(after: colon)...].trimmingSpaces()
        }
        guard fields["kind"] == "ed25519-seed" else { throw .keyFileCorrupt(path: path, reason: "missing kind") }
        guard let seedHex = fields["seed"], let seed = try? Hex.decode(seedHex), seed.count == SigningKey.seedSize
        else { throw .keyFileCorrupt(path: path, reason: "seed is missing, short or not hex") }
        let key = try SigningKey(seed: seed)
        guard fields["public"] == key.publicKey.hex else {
            throw .keyFileCorrupt(path: path, reason: "public key does not match the seed")
        }
        return key
    }

    static func readSmallFile(_ path: String) throws(CryptoError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4097)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed()
            .drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
