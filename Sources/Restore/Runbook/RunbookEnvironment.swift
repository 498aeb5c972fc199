import Foundation

/// What the runbook needs from the rest of cairn and from the machine. The CLI passes the real
/// snapshot verifier, restorer and health prober; tests pass fakes and stand-in commands.
public protocol RunbookEnvironment: Sendable {
    /// Verifies the snapshot end to end and reports what it holds; throws when it does not verify.
    func verify(snapshot: String) async throws -> SnapshotFacts

    /// Restores `snapshot` into `directory` with the plan's member options.
    ///
    /// Contract, because the runbook calls this again after a crash (the journal says `running`):
    /// - write into scratch space of the restore's own (for example `<directory>.partial`) and
    ///   rename it to `directory` only when complete, so `directory` is either absent or whole;
    /// - on entry, remove any scratch left by an interrupted earlier call;
    /// - if `directory` already holds a complete restore of this snapshot (the earlier call finished
    ///   but the journal did not record it), return its outcome without writing anything.
    func restore(snapshot: String, into directory: String, options: RunbookMember) async throws -> RestoreOutcome

    /// Whether the member at `endpoint` answers, and if so its revision and health. A refused or
    /// timed-out connection is `.down`.
    func probe(endpoint: String) async -> ProbeResult

    /// The lowercase hex SHA-256 of `data` (the plan's bytes, to notice an edited plan on resume).
    func sha256(_ data: Data) -> String

    /// The wall clock: journal timestamps, the run ID and probe deadlines.
    func now() -> Date

    /// Runs `command` to completion, killing it at `timeout`, and reports its exit status and output.
    func run(_ command: RunbookCommand, timeout: Duration) async throws -> CommandResult

    /// The executable `name` resolves to (through PATH when it has no slash), or `nil`.
    func locateExecutable(_ name: String) -> String?

    /// Waits between probes.
    func sleep(for duration: Duration) async throws
}

extension RunbookEnvironment {
    public func locateExecutable(_ name: String) -> String? {
        ProcessCommandRunner().locateExecutable(name)
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// What snapshot verification found.
public struct SnapshotFacts: Codable, Sendable, Equatable {
    public var revision: Int64
    public var databaseBytes: Int64

    public init(revision: Int64, databaseBytes: Int64) {
        self.revision = revision
        self.databaseBytes = databaseBytes
    }
}

/// What the restore produced.
public struct RestoreOutcome: Sendable, Equatable {
    /// The restored store's revision (after any bump): the server must serve at least this.
    public var revision: Int64

    public init(revision: Int64) {
        self.revision = revision
    }
}

/// One health probe of the member.
public enum ProbeResult: Sendable, Equatable {
    case down
    case up(revision: Int64, healthy: Bool)
}

/// A command the runbook runs: an argument vector, or shell text for `/bin/sh -c`.
public enum RunbookCommand: Sendable, Equatable, CustomStringConvertible {
    case exec([String])
    case shell(String)

    /// The argument vector to start, with the executable first.
    public var arguments: [String] {
        switch self {
        case .exec(let arguments): arguments
        case .shell(let text): ["/bin/sh", "-c", text]
        }
    }

    /// The command as an operator would type it.
    public var description: String {
        arguments.map(ShellQuote.quote).joined(separator: " ")
    }
}

/// How a command ended.
public struct CommandResult: Sendable, Equatable {
    /// The exit status, or 128 + the signal number when a signal ended it.
    public var status: Int32
    /// Standard output and standard error together, at most the last 64 KiB.
    public var output: String

    public init(status: Int32, output: String) {
        self.status = status
        self.output = output
    }
}

/// Single-quotes arguments for display when they hold anything a shell would interpret.
enum ShellQuote {
    static func quote(_ argument: String) -> String {
        let plain = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0) }
        guard !plain || argument.isEmpty else { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
