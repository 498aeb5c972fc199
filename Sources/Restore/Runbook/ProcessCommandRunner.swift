import Storage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs commands as child processes with a search path of its own, so tests can put stand-in
/// `systemctl` scripts first.
public struct ProcessCommandRunner: Sendable {
    /// Bound on the output kept from one command: the tail is what explains a failure.
    static let outputBytesMax = 64 * 1024

    /// The PATH used to find executables and given to the children.
    public var searchPath: String

    public init(searchPath: String? = nil) {
        self.searchPath = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
    }

    public func locateExecutable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = PathText.join(String(directory), name)
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Runs `command`, killing it (SIGKILL) if it outlives `timeout`.
    public func run(_ command: RunbookCommand, timeout: Duration) async throws -> CommandResult {
        var arguments = command.arguments
        let name = arguments.removeFirst()
        guard let executable = locateExecutable(name) else {
            throw RunbookError(.commandFailed, "cannot run '\(command)': '\(name)' is not an executable in PATH \(searchPath)")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = searchPath
        let launch = Launch(executable: executable, arguments: arguments, environment: environment, timeout: timeout)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try launch.runBlocking() })
            }
        }
    }

    /// One child process, waited for on a dispatch thread. Spawned and reaped with posix_spawn
    /// and waitpid rather than Foundation's Process, whose exit notification waits for every
    /// holder of a descriptor it hands the child: a start command that leaves a daemon running
    /// (the usual way to start a server) would keep the runbook waiting until its timeout. For
    /// the same reason the output goes to an unlinked temporary file, not a pipe, and the child
    /// inherits no descriptor but its standard three.
    private struct Launch: Sendable {
        let executable: String
        let arguments: [String]
        let environment: [String: String]
        let timeout: Duration

        func runBlocking() throws -> CommandResult {
            let outputFile = try OutputFile()
            let pid = try spawn(output: outputFile.handle.fileDescriptor)
            let exit = ExitFlag()
            let milliseconds = Int(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                exit.killIfRunning(pid)
            }
            // Wait without reaping, so the pid cannot be reused before the timeout stands down.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
            let timedOut = exit.markExited()
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let text = outputFile.tail(bytesMax: ProcessCommandRunner.outputBytesMax)
            if timedOut {
                let shown = ([executable] + arguments).map(ShellQuote.quote).joined(separator: " ")
                throw RunbookError(.commandFailed, "'\(shown)' ran longer than \(DurationText.format(timeout)) and was killed")
            }
            // wait(2)'s encoding: the low 7 bits are the terminating signal, 0 for a normal exit.
            let signal = status & 0x7f
            return CommandResult(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, output: text)
        }

        private func spawn(output: Int32) throws -> pid_t {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
            if let closeFrom = Self.addCloseFrom {
                _ = closeFrom(&actions, 3)
            } else {
                Self.closeOnExecAboveStandardDescriptors()
            }
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // The child starts with default signal handling, whatever this process ignores.
            var defaults = sigset_t()
            sigemptyset(&defaults)
            sigaddset(&defaults, SIGPIPE)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            var emptyMask = sigset_t()
            sigemptyset(&emptyMask)
            posix_spawnattr_setsigmask(&attributes, &emptyMask)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid = pid_t()
            let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            guard result == 0 else {
                throw RunbookError(.commandFailed, "cannot start \(executable): \(String(cString: strerror(result)))")
            }
            return pid
        }

        /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`: the child closes every
        /// descriptor from 3 up, including ones other threads open while it starts. Looked up at
        /// run time because Swift's Glibc module does not declare it.
        private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        private static let addCloseFrom: AddCloseFrom? = {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
            return unsafeBitCast(symbol, to: AddCloseFrom.self)
        }()

        /// Without closefrom: marks this process's descriptors above 2 close-on-exec (this
        /// process never execs), so a child, and any daemon it leaves behind, holds none of them.
        private static func closeOnExecAboveStandardDescriptors() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
            for name in names {
                guard let descriptor = Int32(name), descriptor > 2 else { continue }
                let flags = fcntl(descriptor, F_GETFD)
                if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
            }
        }
    }

    /// An unlinked temporary file the child writes its output to.
    private struct OutputFile {
        let handle: FileHandle

        init() throws {
            var template = Array((NSTemporaryDirectory() + "/cairn-runbook-output-XXXXXX").utf8CString)
            let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard descriptor >= 0 else {
                throw RunbookError(.fileSystem, "cannot create a temporary file for command output: errno \(errno)")
            }
            unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }

        func tail(bytesMax: Int) -> String {
            let size = lseek(handle.fileDescriptor, 0, SEEK_END)
            let start = max(0, size - off_t(bytesMax))
            var bytes = [UInt8](repeating: 0, count: Int(size - start))
            let count = bytes.isEmpty ? 0 : pread(handle.fileDescriptor, &bytes, bytes.count, start)
            return String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
        }
    }

    /// Whether the child has exited, so the timeout does not signal a pid once the child is waited for.
    private final class ExitFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var exited = false
        private var killed = false

        func killIfRunning(_ pid: pid_t) {
            lock.withLock {
                guard !exited else { return }
                kill(pid, SIGKILL)
                killed = true
            }
        }

        /// Records the exit and tells whether the timeout had killed the child.
        func markExited() -> Bool {
            lock.withLock {
                exited = true
                return killed
            }
        }
    }
}
