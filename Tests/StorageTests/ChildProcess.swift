import Foundation

/// A child process whose standard output is read line by line with a deadline, and which the
/// test kills with SIGKILL.
final class ChildProcess {
    private let process = Process()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    private var reachedEnd = false

    init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
    }

    /// The next line, or nil at end of output; throws when `deadline` passes first.
    func readLine(before deadline: ContinuousClock.Instant) throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if reachedEnd { return nil }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw ChildError.timedOut }
            let (seconds, attoseconds) = remaining.components
            var descriptor = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            if ready < 0, errno != EINTR { throw ChildError.io(errno) }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(descriptor.fd, &chunk, chunk.count)
            if count < 0, errno != EINTR { throw ChildError.io(errno) }
            if count == 0 { reachedEnd = true }
            if count > 0 { buffer.append(contentsOf: chunk[..<count]) }
        }
    }

    func kill() {
        _ = Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var terminationReason: Process.TerminationReason { process.terminationReason }

    enum ChildError: Error {
        case timedOut
        case io(Int32)
    }
}
