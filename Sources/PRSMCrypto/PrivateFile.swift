#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small secret files (keys, API tokens): created with mode 0600 atomically (O_EXCL, never
/// overwriting), synced to disk; refused on read when group or others could read them.
public enum PrivateFile {
    public static let maxSize = 4096

    public static func create(_ path: String, contents: [UInt8]) throws(CryptoError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .keyFileExists(path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw .io(path: path, reason: "short write or fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    public static func read(_ path: String) throws(CryptoError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw .keyFileMissing(path: path) }
            throw .io(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt16(info.st_mode & 0o777)
        guard mode & 0o077 == 0 else { throw .keyFileTooOpen(path: path, mode: mode) }
        guard info.st_size <= maxSize else { throw .keyFileCorrupt(path: path, reason: "file is \(info.st_size) bytes") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: maxSize + 1)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
