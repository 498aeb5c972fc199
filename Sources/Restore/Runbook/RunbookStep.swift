/// The restore's steps, in the order they run. The raw values are stable: they name the steps in
/// the journal and in every message. A step killed midway is journaled `running` and performed
/// again by `--resume`, so each is safe to repeat.
public enum RunbookStep: String, Codable, Sendable, CaseIterable {
    /// Read-only checks; the journal is first written when they pass, so it is never repeated.
    case preflight
    /// `systemctl stop` of a stopped unit succeeds; a parked manifest stays parked; a shell command
    /// must tolerate a stopped API server (the plan's contract).
    case stopAPIServer = "stop-api-server"
    /// As stop-api-server, then a wait that passes at once when the endpoint is already down. Whether
    /// the server was up is probed and journaled once, before the first stop.
    case stopServer = "stop-server"
    /// The injected restore's contract (see `RunbookEnvironment.restore`): scratch of its own, cleared
    /// on entry, and a complete target reported rather than rewritten.
    case restore
    /// Records what it replaces once, then recognises its finished work: the symlink already names
    /// the new data-dir, the drop-in already has our content, the manifest already mounts the new
    /// hostPath. A data-dir already renamed aside is not moved again.
    case repoint
    /// Starting a started unit or unparking an unparked manifest is a no-op; a shell command must
    /// tolerate a running server. The wait then checks the revision.
    case startServer = "start-server"
    /// The reverse of stop-api-server, idempotent the same way.
    case startAPIServer = "start-api-server"
}

/// The rollback's steps, in the order they run: the restore's actions undone in reverse.
public enum RollbackStep: String, Codable, Sendable, CaseIterable {
    case stopServer = "stop-server"
    case undoRepoint = "undo-repoint"
    case startServer = "start-server"
    case startAPIServer = "start-api-server"
}

/// Where a step stands. A step is journaled `running` before it acts, so a run killed mid-step
/// leaves `running` and `--resume` performs the step again.
public enum StepStatus: String, Codable, Sendable {
    case pending, running, done, skipped, failed

    /// Whether the step has nothing left to do.
    var isSettled: Bool { self == .done || self == .skipped }
    /// Whether the step may have acted (so its effects may need undoing).
    var mayHaveActed: Bool { self == .running || self == .done || self == .failed }
}
