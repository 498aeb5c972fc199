import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file mapped read-only into memory, with bounds-asserted little-endian reads.
///
/// The reader never copies the file: a multi-GiB database costs address space, not memory. Every
/// read asserts its range: callers validate offsets read from the file before using them, so a
/// failed assertion here is a bug in the reader, never a property of the file.
///
/// `@unchecked Sendable`: the mapping is `PROT_READ` and this object never writes through it; it is
/// unmapped only in `deinit`, when no reader can hold a reference any more.
final class MappedFile: @unchecked Sendable {
    let path: String
    /// Bytes mapped, which is the part of the file the reader may look at.
    let count: Int
    private let base: UnsafeRawPointer

    /// Maps the first `lengthBytes` bytes of `path` (the whole file when nil).
    init(path: String, lengthBytes: Int?) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BoltError(code: .io, message: "cannot open '\(path)': \(Self.lastErrno())")
        }
        defer { Glibc.close(fd) }
        let fileSize = try Self.sizeBytes(fd: fd, path: path)
        let length = lengthBytes ?? fileSize
        guard length >= 0, length <= fileSize else {
            throw BoltError(
                code: .io,
                message: "cannot map \(length) bytes of '\(path)': the file has \(fileSize) bytes")
        }
        guard length > 0 else {
            throw BoltError(code: .notBolt, message: "'\(path)' is empty (0 bytes): not a bbolt database")
        }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0),
            mapped != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw BoltError(code: .io, message: "cannot mmap \(length) bytes of '\(path)': \(Self.lastErrno())")
        }
        // Tree walks jump between pages; read-ahead of neighbours would mostly be wasted.
        _ = madvise(mapped, length, MADV_RANDOM)
        self.path = path
        self.count = length
        self.base = UnsafeRawPointer(mapped)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }

    /// The size of the regular file at `path`.
    static func sizeBytes(of path: String) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BoltError(code: .io, message: "cannot open '\(path)': \(lastErrno())")
        }
        defer { Glibc.close(fd) }
        return try sizeBytes(fd: fd, path: path)
    }

    private static func sizeBytes(fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw BoltError(code: .io, message: "cannot stat '\(path)': \(lastErrno())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw BoltError(code: .io, message: "'\(path)' is not a regular file")
        }
        return Int(info.st_size)
    }

    private static func lastErrno() -> String {
        String(cString: strerror(errno))
    }

    /// Drops the pages of `range` from this process's resident set; later reads fault them back
    /// in from the page cache. A walk calls this for each leaf it is done with, so streaming a
    /// many-GiB database through a restore keeps the process's resident memory flat.
    func evict(_ range: Range<Int>) {
        let osPage = Self.osPageBytes
        let start = (range.lowerBound + osPage - 1) / osPage * osPage
        let end = range.upperBound / osPage * osPage
        guard start < end else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    private static let osPageBytes = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1)

    func contains(_ range: Range<Int>) -> Bool {
        range.lowerBound >= 0 && range.upperBound <= count
    }

    func uint16(at offset: Int) -> UInt16 { load(at: offset) }
    func uint32(at offset: Int) -> UInt32 { load(at: offset) }
    func uint64(at offset: Int) -> UInt64 { load(at: offset) }

    /// bbolt writes its structs in host byte order; every platform cairn runs on is little-endian.
    private func load<T: FixedWidthInteger>(at offset: Int) -> T {
        precondition(contains(offset..<(offset + MemoryLayout<T>.size)), "read outside the mapping")
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func bytes(_ range: Range<Int>) -> [UInt8] {
        precondition(contains(range), "read outside the mapping")
        return [UInt8](UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Orders two byte ranges as bbolt does (bytes.Compare): <0, 0 or >0.
    func compare(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        precondition(contains(a) && contains(b), "read outside the mapping")
        return Self.compare(base + a.lowerBound, a.count, base + b.lowerBound, b.count)
    }

    /// Orders a byte range of the file against `key`: <0, 0 or >0.
    func compare(_ a: Range<Int>, _ key: [UInt8]) -> Int {
        precondition(contains(a), "read outside the mapping")
        return key.withUnsafeBytes { Self.compare(base + a.lowerBound, a.count, $0.baseAddress, key.count) }
    }

    private static func compare(
        _ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer?, _ bCount: Int
    ) -> Int {
        let common = min(aCount, bCount)
        if common > 0, let b {
            let order = memcmp(a, b, common)
            if order != 0 { return Int(order) }
        }
        return aCount - bCount
    }

    /// FNV-1a 64 of a byte range: bbolt's meta page checksum.
    func fnv1a64(_ range: Range<Int>) -> UInt64 {
        precondition(contains(range), "read outside the mapping")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for offset in range {
            hash ^= UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
