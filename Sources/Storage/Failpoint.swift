import Foundation
import Synchronization

/// Faults compiled into every build and armed only for the robustness suite: at start by the
/// `CAIRN_FAILPOINTS` environment variable (comma-separated names), or while running through
/// the HTTP listener `CAIRN_FAILPOINTS_HTTP` starts (`PUT /<name>` arms, `DELETE /<name>`
/// disarms, `GET /` lists), as etcd's gofail builds do. A server started with either logs a
/// warning; an unknown name stops it from starting.
public enum Failpoint: String, CaseIterable, Sendable {
    /// Linearizable reads are answered from the member's own state without raft's ReadIndex,
    /// as a deliberately broken build: a lagging follower then serves stale values.
    case skipReadIndex = "skip-read-index"
    /// The process dies once the WAL's bytes are written but before they are synced.
    case crashBeforeWALFsync = "crash-before-wal-fsync"
    /// The process dies once the WAL is synced but before raft hears that it is.
    case crashAfterWALFsync = "crash-after-wal-fsync"
    /// The process dies with a batch of applied entries staged but not committed to the backend.
    case crashBeforeBackendCommit = "crash-before-backend-commit"
    /// The process dies once the backend committed a batch but before its callers hear of it.
    case crashAfterBackendCommit = "crash-after-backend-commit"
    /// The leader dies after sending the first chunk of a raft snapshot's backend.
    case crashDuringSnapshotSend = "crash-during-snapshot-send"
    /// A follower dies after raft accepted a snapshot (it is in the WAL) and before its backend
    /// replaced the store.
    case crashDuringSnapshotApply = "crash-during-snapshot-apply"
    /// The next commit of a batch of applied entries fails, as a failing disk's would; the
    /// failpoint then disarms itself.
    case failBackendCommit = "fail-backend-commit"
    /// The process dies in a background compaction step, old versions removed but not committed.
    case crashDuringCompaction = "crash-during-compaction"
    /// The process dies after the defragmented copy is written and synced, before it is swapped in.
    case crashDuringDefrag = "crash-during-defrag"

    public static let environmentVariable = "CAIRN_FAILPOINTS"
    public static let httpEnvironmentVariable = "CAIRN_FAILPOINTS_HTTP"
    /// The exit status of a process a crash failpoint ended, distinct from a failed start (1).
    public static let crashExitStatus: Int32 = 86

    /// The failpoints named in `text`; throws naming the first unknown one.
    public static func parse(_ text: String) throws(FailpointError) -> Set<Failpoint> {
        var names = Set<Failpoint>()
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let failpoint = Failpoint(rawValue: name) else { throw FailpointError(name: name) }
            names.insert(failpoint)
        }
        return names
    }

    /// The failpoints `CAIRN_FAILPOINTS` names in this process's environment.
    public static func fromEnvironment() throws(FailpointError) -> Set<Failpoint> {
        try parse(ProcessInfo.processInfo.environment[environmentVariable] ?? "")
    }

    /// The armed set: read on hot paths (every WAL sync, every backend commit), so a check
    /// while nothing is armed is one atomic load.
    private static let armed = Mutex<Set<Failpoint>>((try? fromEnvironment()) ?? [])
    private static let anyArmed = Atomic<Bool>(!((try? fromEnvironment()) ?? []).isEmpty)

    /// The failpoints armed now.
    public static var active: Set<Failpoint> {
        guard anyArmed.load(ordering: .acquiring) else { return [] }
        return armed.withLock { $0 }
    }

    public var isActive: Bool {
        guard Self.anyArmed.load(ordering: .acquiring) else { return false }
        return Self.armed.withLock { $0.contains(self) }
    }

    public func arm() { Self.update { $0.insert(self) } }

    public func disarm() { Self.update { $0.remove(self) } }

    /// True once when armed, disarming it: for faults that happen one time.
    public func fireOnce() -> Bool {
        guard Self.anyArmed.load(ordering: .acquiring) else { return false }
        return Self.armed.withLock { set in
            defer { Self.anyArmed.store(!set.isEmpty, ordering: .releasing) }
            return set.remove(self) != nil
        }
    }

    private static func update(_ change: (inout Set<Failpoint>) -> Void) {
        armed.withLock { set in
            change(&set)
            anyArmed.store(!set.isEmpty, ordering: .releasing)
        }
    }

    /// Ends the process at once when this failpoint is armed, as a power cut or `kill -9` at
    /// this point would: nothing is flushed or closed, and the exit status says which fault.
    public func crashIfArmed() {
        guard isActive else { return }
        let line = "failpoint \(rawValue): crashing (exit status \(Self.crashExitStatus))\n"
        line.utf8CString.withUnsafeBufferPointer { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count - 1) }
        _exit(Self.crashExitStatus)
    }
}

public struct FailpointError: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "\(Failpoint.environmentVariable) names an unknown failpoint '\(name)'; known: "
            + Failpoint.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
