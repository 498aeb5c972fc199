#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file reads. POSIX rather than Foundation so the key file's permissions are
/// checked with `fstat` on the very descriptor that is then read, with no window in which the
/// file could be swapped.
enum FileReading {
    /// An open descriptor, its permission bits and a bounded read of its first bytes.
    struct Prefix {
        var bytes: [UInt8]
        /// Permission bits (`st_mode & 0o7777`).
        let mode: UInt32
        /// True when the file holds more than the bytes read.
        let hasMore: Bool
    }

    /// Reads at most `maxByteCount` bytes from the start of `path`.
    static func readPrefix(path: String, maxByteCount: Int) throws -> Prefix {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw EnvelopeError(.io, "cannot open \(path): \(errorText(errno))")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw EnvelopeError(.io, "cannot stat \(path): \(errorText(errno))")
        }

        // One spare byte tells "exactly maxByteCount" apart from "longer than that".
        var bytes = [UInt8](repeating: 0, count: maxByteCount + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress.map { $0 + filled }, buffer.count - filled)
            }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw EnvelopeError(.io, "cannot read \(path): \(errorText(errno))")
            }
            filled += count
        }
        let hasMore = filled > maxByteCount
        bytes.removeSubrange(min(filled, maxByteCount)...)
        return Prefix(bytes: bytes, mode: UInt32(status.st_mode) & 0o7777, hasMore: hasMore)
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
