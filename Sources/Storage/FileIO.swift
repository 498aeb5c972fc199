#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX file calls that turn failures into ``StorageError``s naming the file: the WAL
/// and the backend need `pwrite`, `fdatasync` and directory syncs that Foundation hides.
enum FileIO {
    static func error(_ operation: String, _ path: String, offset: Int? = nil) -> StorageError {
        let reason = String(cString: strerror(errno))
        let location = offset.map { " at offset \($0)" } ?? ""
        return StorageError(.io, "\(operation) \(path)\(location) failed: \(reason)")
    }

    static func open(_ path: String, flags: Int32) throws(StorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw error("open", path) }
        return fd
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Writes all of `bytes` at `offset`, retrying short writes.
    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                pwrite(fd, raw.baseAddress! + written, raw.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw error("write", path, offset: offset + written)
            }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws(StorageError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < count {
            let result = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + total, count - total, off_t(offset + total))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw error("read", path, offset: offset + total)
            }
            if result == 0 { break }
            total += result
        }
        buffer.removeLast(count - total)
        return buffer
    }

    static func size(_ fd: Int32, path: String) throws(StorageError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw error("stat", path) }
        return Int(info.st_size)
    }

    /// Makes the file's data durable (its size too, when it changed).
    static func sync(_ fd: Int32, _ path: String) throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw error("fdatasync", path) }
    }

    /// Writes zeros up to `sizeBytes` from the current end of the file. Real zeros, not
    /// `fallocate`'s unwritten extents: overwriting those changes file-system metadata, so
    /// every `fdatasync` of an append would also commit the journal.
    static func preallocate(_ fd: Int32, sizeBytes: Int, path: String) throws(StorageError) {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset = try size(fd, path: path)
        while offset < sizeBytes {
            let count = min(zeros.count, sizeBytes - offset)
            try write(fd, count == zeros.count ? zeros : Array(zeros[..<count]), at: offset, path: path)
            offset += count
        }
    }

    static func truncate(_ fd: Int32, sizeBytes: Int, path: String) throws(StorageError) {
        guard ftruncate(fd, off_t(sizeBytes)) == 0 else { throw error("truncate", path, offset: sizeBytes) }
    }

    /// Makes a create, rename or unlink in the directory holding `path` durable.
    static func syncDirectory(containing path: String) throws(StorageError) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        try syncDirectory(directory.isEmpty ? "/" : directory)
    }

    static func syncDirectory(_ directory: String) throws(StorageError) {
        let fd = try open(directory, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync directory", directory) }
    }

    /// Names of the entries in `directory`, unsorted.
    static func list(_ directory: String) throws(StorageError) -> [String] {
        guard let handle = opendir(directory) else { throw error("list", directory) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func makeDirectory(_ path: String) throws(StorageError) {
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw error("create directory", path) }
    }
}
