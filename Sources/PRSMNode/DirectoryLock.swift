#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock (flock) on a data directory's node.lock, held for the life of
/// this value's owner. The kernel releases it if the process dies, so a crash never leaves
/// a stale lock behind.
public final class DirectoryLock: Sendable {
    private let fd: Int32

    public init(directory: DataDirectory) throws(NodeError) {
        let fd = open(directory.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(directory.lockPath, String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .locked(directory.path)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
