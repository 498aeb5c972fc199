import Foundation
import Storage

/// Writes a small file so that readers (and a crash) see the old content or the new, never
/// a mix: a temporary file beside it, fsynced, renamed over it, the directory fsynced.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o644]) else {
            throw SchedulerError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        try sync(temporary, flags: O_RDONLY)
        guard rename(temporary, path) == 0 else {
            throw SchedulerError(.io, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        try sync(PathText.parent(of: path), flags: O_RDONLY | O_DIRECTORY)
    }

    private static func sync(_ path: String, flags: Int32) throws {
        let fd = open(path, flags)
        guard fd >= 0 else { throw SchedulerError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SchedulerError(.io, "cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
