import Storage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the runbook makes, each failing with a `file-system` error that names the path
/// and the system's reason. Every change is made durable (file and directory fsync) before it returns.
enum FileSystem {
    /// What a path names, without following a final symlink.
    enum Entry: Equatable {
        case missing
        case directory
        case symlink(target: String)
        case file
        case other
    }

    static func entry(at path: String) throws -> Entry {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            throw failure(errno, "cannot inspect \(path)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFLNK: return .symlink(target: try readLink(path))
        default: return .other
        }
    }

    /// Whether `path` is a directory once symlinks are followed.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The device `path` lives on (symlinks followed), to tell file systems and mount points apart.
    static func device(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_dev)
    }

    /// Bytes an unprivileged writer may still use on the file system holding `path`.
    static func freeBytes(at path: String) throws -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw failure(errno, "cannot statvfs \(path)") }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// The canonical path with every symlink resolved, or `nil` when it does not exist.
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    static func isWritableDirectory(_ path: String) -> Bool {
        isDirectory(path) && access(path, W_OK | X_OK) == 0
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw failure(errno, "cannot read the symlink \(path)") }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func read(_ path: String) throws -> Data? {
        guard exists(path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw failure(errno, "cannot read \(path)") }
        return data
    }

    /// Writes `data` to a temporary file in `temporaryDirectory` (which must be on `path`'s file
    /// system), fsyncs it and renames it over `path`, keeping an existing file's permissions.
    static func writeAtomically(_ data: Data, to path: String, temporaryDirectory: String) throws {
        let temporary = PathText.join(temporaryDirectory, ".\(PathText.base(of: path)).cairn-tmp")
        var info = stat()
        let mode = stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o644
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure(errno, "cannot create \(temporary)") }
        do {
            defer { close(descriptor) }
            try data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    guard written > 0 else { throw failure(errno, "cannot write \(temporary)") }
                    offset += written
                }
            }
            guard fchmod(descriptor, mode) == 0, fsync(descriptor) == 0 else { throw failure(errno, "cannot sync \(temporary)") }
        } catch {
            unlink(temporary)
            throw error
        }
        try move(temporary, to: path)
    }

    /// rename(2), then fsync of both directories so the move survives a crash.
    static func move(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw failure(errno, "cannot rename \(source) to \(destination)")
        }
        try syncDirectory(PathText.parent(of: destination))
        if PathText.parent(of: source) != PathText.parent(of: destination) {
            try syncDirectory(PathText.parent(of: source))
        }
    }

    /// Makes `path` a symlink to `target` in one step: a fresh link beside it renamed over it.
    static func replaceSymlink(at path: String, target: String) throws {
        let link = path + ".cairn-new-link"
        if case .symlink = try entry(at: link) {
            try remove(link)
        }
        guard symlink(target, link) == 0 else { throw failure(errno, "cannot create the symlink \(link)") }
        try move(link, to: path)
    }

    /// Removes a file or a symlink (never a directory).
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure(errno, "cannot remove \(path)") }
        try syncDirectory(PathText.parent(of: path))
    }

    static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || (errno == EEXIST && isDirectory(path)) else {
            throw failure(errno, "cannot create the directory \(path)")
        }
        try syncDirectory(PathText.parent(of: path))
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno, "cannot open the directory \(path)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure(errno, "cannot sync the directory \(path)") }
    }

    /// Takes errno first so that building the message cannot change it.
    private static func failure(_ code: Int32, _ what: String) -> RunbookError {
        RunbookError(.fileSystem, "\(what): \(String(cString: strerror(code)))")
    }
}
