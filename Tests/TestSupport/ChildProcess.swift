import Foundation

/// A child process whose standard output is read line by line with a deadline, and which the
/// test kills with SIGKILL.
public final class ChildProcess {
    private let process = Process()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    private var reachedEnd = false

    /// `environment` nil inherits the test's; `errorOutput` nil inherits the test's standard error.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil, errorOutput: FileHandle? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        if let errorOutput { process.standardError = errorOutput }
        try process.run()
    }

    /// The next line, or nil at end of output; throws when `deadline` passes first.
    public func readLine(before deadline: ContinuousClock.Instant) throws -> String? {
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

    public func kill() {
        _ = Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var terminationReason: Process.TerminationReason { process.terminationReason }

    public enum ChildError: Error {
        case timedOut
        case io(Int32)
    }
}
