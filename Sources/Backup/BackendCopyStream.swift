import Foundation
import Storage

/// A consistent copy of the backend read as a stream of chunks: a thread writes
/// ``MVCCStore/copy(to:)`` into a pipe while the caller reads it, so there is no temporary
/// file and memory stays at one chunk. Used for client snapshots and raft snapshots to peers.
public final class BackendCopyStream: @unchecked Sendable {
    private let readFD: Int32
    private let lock = NSLock()
    private var failure: (any Error)?
    private var closed = false

    /// With `waitForStart`, returns only once the copy has begun (its read transaction is
    /// open and its first bytes are in the pipe).
    public init(store: MVCCStore, waitForStart: Bool = false) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw BackupError("copy", at: "start", "cannot create a pipe for the backend copy: errno \(errno)")
        }
        readFD = fds[0]
        let writeFD = fds[1]
        let copier = Thread { [self] in
            defer { Glibc.close(writeFD) }
            do { try store.copy(to: writeFD) } catch { lock.withLock { failure = error } }
        }
        copier.name = "cairn-backend-copy"
        copier.start()
        if waitForStart {
            var ready = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
            while poll(&ready, 1, -1) < 0 && errno == EINTR {}
        }
    }

    deinit {
        Glibc.close(readFD)
    }

    /// The next bytes of the copy, up to `count`; empty at the end. Throws when the copy
    /// failed, so a truncated stream is never mistaken for a whole one.
    public func next(upTo count: Int) async throws -> [UInt8] {
        let chunk = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
            DispatchQueue.global().async { [self] in
                var buffer = [UInt8](repeating: 0, count: count)
                var filled = 0
                while filled < count {
                    let got = buffer.withUnsafeMutableBytes { Glibc.read(readFD, $0.baseAddress! + filled, count - filled) }
                    if got == 0 { break }
                    if got < 0 {
                        if errno == EINTR { continue }
                        continuation.resume(throwing: BackupError("copy", at: "byte \(filled)",
                            "reading the backend copy failed: errno \(errno)"))
                        return
                    }
                    filled += got
                }
                continuation.resume(returning: Array(buffer[..<filled]))
            }
        }
        if chunk.isEmpty, let failure = lock.withLock({ failure }) {
            throw BackupError("copy", at: "end", "the backend copy failed: \(failure)")
        }
        return chunk
    }
}
