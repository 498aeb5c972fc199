import Foundation

/// An exclusive lock on a backup directory (`DIR/.cairn-schedule.lock`, flock(2)), so two
/// schedulers never write, verify or prune the same directory at once. The kernel drops it
/// when the process exits, however it exits: no stale lock after a crash.
public final class DirectoryLock: Sendable {
    public static let fileName = ".cairn-schedule.lock"
    private let descriptor: Int32

    /// Takes the lock or fails at once, naming the process that holds it.
    public init(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SchedulerError(.io, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw SchedulerError(.locked,
                "another cairn scheduler\(holder.isEmpty ? "" : " (pid \(holder))") is using \(directory) (it holds \(path)); stop it, or give this one another --dir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
