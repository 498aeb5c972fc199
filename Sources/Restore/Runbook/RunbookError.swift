/// An error the runbook reports to the operator: a stable `code` for scripts and a `message` that
/// says what failed, where (step, path, command) and what to do next.
public struct RunbookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, extensible error code, spelled as it appears in `-w json` output.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The plan file is unreadable, not YAML, has an unknown key, a relative path, a bad duration…
        public static let planInvalid = Code(rawValue: "plan-invalid")
        /// One or more preflight checks failed; nothing was changed.
        public static let preflightFailed = Code(rawValue: "preflight-failed")
        /// A journal of an unfinished run exists and neither `--resume` nor rollback was asked for.
        public static let runUnfinished = Code(rawValue: "run-unfinished")
        /// The journal says the run completed (or was rolled back).
        public static let runComplete = Code(rawValue: "run-complete")
        /// `--resume` or rollback was asked for but there is no journal.
        public static let journalMissing = Code(rawValue: "journal-missing")
        /// The journal is unreadable or belongs to another plan or snapshot.
        public static let journalMismatch = Code(rawValue: "journal-mismatch")
        /// A step of the restore failed; the journal marks it `failed`.
        public static let stepFailed = Code(rawValue: "step-failed")
        /// A step of the rollback failed; the journal marks it `failed`.
        public static let rollbackFailed = Code(rawValue: "rollback-failed")
        /// A command exited non-zero or ran past its deadline.
        public static let commandFailed = Code(rawValue: "command-failed")
        /// The server did not reach the wanted state (down, or healthy at the expected revision) in time.
        public static let serverState = Code(rawValue: "server-state")
        /// A file-system operation failed or found something the runbook will not overwrite.
        public static let fileSystem = Code(rawValue: "file-system")
        /// A static-pod manifest could not be parsed or has no hostPath volume to repoint.
        public static let manifest = Code(rawValue: "manifest")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}

extension RunbookError {
    /// Wraps any error thrown inside a step so the operator sees the step's name first.
    static func describing(_ error: any Error) -> String {
        if let runbookError = error as? RunbookError { return runbookError.message }
        return String(describing: error)
    }
}
