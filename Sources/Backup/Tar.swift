import CArchive
import Foundation

/// Writes a tar stream (pax, via libarchive) to `sink`. Each member's size must be known
/// before its bytes: the tar header carries it.
final class TarWriter {
    private let archive: OpaquePointer
    fileprivate let sink: (UnsafeRawBufferPointer) throws -> Void
    fileprivate var failure: (any Error)?
    private let modified = time(nil)

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws(BackupError) {
        guard let archive = archive_write_new() else { throw BackupError("tar", at: "start", "libarchive cannot allocate a writer") }
        self.archive = archive
        self.sink = sink
        archive_write_set_format_pax_restricted(archive)
        // No padding to 10 KiB blocks: the archive ends with the two zero blocks tar needs.
        archive_write_set_bytes_in_last_block(archive, 1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let opened = archive_write_open(archive, context, nil, { _, context, buffer, length in
            let writer = Unmanaged<TarWriter>.fromOpaque(context!).takeUnretainedValue()
            do {
                try writer.sink(UnsafeRawBufferPointer(start: buffer, count: length))
                return la_ssize_t(length)
            } catch {
                writer.failure = error
                return -1
            }
        }, nil)
        try check(opened, "open")
    }

    deinit { archive_write_free(archive) }

    private func check(_ code: Int32, _ what: String) throws(BackupError) {
        guard code != ARCHIVE_OK else { return }
        throw BackupError("tar", at: what, failure.map { "\($0)" } ?? String(cString: archive_error_string(archive)))
    }

    func add(name: String, bytes: UnsafeRawBufferPointer) throws {
        guard let entry = archive_entry_new() else { throw BackupError("tar", at: name, "libarchive cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_size(entry, la_int64_t(bytes.count))
        archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG (a macro Swift cannot import)
        archive_entry_set_perm(entry, 0o600)
        archive_entry_set_mtime(entry, modified, 0)
        try check(archive_write_header(archive, entry), "header of \(name)")
        if bytes.count > 0 {
            let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
            guard written == bytes.count else {
                throw BackupError("tar", at: name, failure.map { "\($0)" } ?? String(cString: archive_error_string(archive)))
            }
        }
        try check(archive_write_finish_entry(archive), "end of \(name)")
    }

    func finish() throws {
        try check(archive_write_close(archive), "end of archive")
    }
}

/// Reads a tar stream from `source` (bytes already decompressed), member by member.
final class TarReader {
    private let archive: OpaquePointer
    fileprivate let source: (UnsafeMutableRawBufferPointer) throws -> Int
    fileprivate var failure: (any Error)?
    fileprivate let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

    init(source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws(BackupError) {
        guard let archive = archive_read_new() else { throw BackupError("tar structure", at: "start", "libarchive cannot allocate a reader") }
        self.archive = archive
        self.source = source
        archive_read_support_format_tar(archive)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let opened = archive_read_open(archive, context, nil, { _, context, out in
            let reader = Unmanaged<TarReader>.fromOpaque(context!).takeUnretainedValue()
            do {
                let count = try reader.source(reader.buffer)
                out?.pointee = UnsafeRawPointer(reader.buffer.baseAddress)
                return la_ssize_t(count)
            } catch {
                reader.failure = error
                return -1
            }
        }, nil)
        if opened != ARCHIVE_OK { throw error(at: "start") }
    }

    deinit {
        archive_read_free(archive)
        buffer.deallocate()
    }

    private func error(at location: String) -> BackupError {
        if let failure = failure as? BackupError { return failure }
        let message = failure.map { "\($0)" } ?? archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        return BackupError("tar structure", at: location, message)
    }

    /// The next member's name and size; nil after the last.
    func next() throws -> (name: String, size: Int64)? {
        var entry: OpaquePointer?
        switch archive_read_next_header(archive, &entry) {
        case ARCHIVE_OK:
            let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            return (name, archive_entry_size(entry))
        case ARCHIVE_EOF:
            return nil
        default:
            throw error(at: "member header")
        }
    }

    /// The current member's bytes, chunk by chunk.
    func readMember(_ body: (UnsafeRawBufferPointer) throws -> Void, name: String) throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = archive_read_data(archive, chunk.baseAddress, chunk.count)
            if count < 0 { throw error(at: name) }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
    }
}
