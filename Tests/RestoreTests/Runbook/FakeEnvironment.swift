import Foundation
@testable import Restore

/// Verify, restore and probe stand-ins; commands run for real through `ProcessCommandRunner`.
final class FakeEnvironment: RunbookEnvironment, @unchecked Sendable {
    struct Crash: Error, CustomStringConvertible {
        var description: String { "simulated crash inside the restore" }
    }

    static let snapshotRevision: Int64 = 500
    static let databaseBytes: Int64 = 1 << 20

    let runner: ProcessCommandRunner
    private let lock = NSLock()
    private var verifyError: (any Error)?
    private var crashNextRestore = false
    private var counts: [String: Int] = [:]
    /// What the member answers; the harness wires it to files the scripts flip.
    private var answer: @Sendable () -> ProbeResult = { .down }

    init(searchPath: String) {
        runner = ProcessCommandRunner(searchPath: searchPath)
    }

    func failVerify(_ error: any Error) { lock.withLock { verifyError = error } }
    func crashOnNextRestore() { lock.withLock { crashNextRestore = true } }
    func answer(with probe: @escaping @Sendable () -> ProbeResult) { lock.withLock { answer = probe } }
    func count(_ name: String) -> Int { lock.withLock { counts[name, default: 0] } }
    private func note(_ name: String) { lock.withLock { counts[name, default: 0] += 1 } }

    func verify(snapshot: String) async throws -> SnapshotFacts {
        note("verify")
        if let error = lock.withLock({ verifyError }) { throw error }
        return SnapshotFacts(revision: Self.snapshotRevision, databaseBytes: Self.databaseBytes)
    }

    /// Keeps the runbook's contract: scratch beside the target, renamed when complete; a complete
    /// target is reported, not rewritten.
    func restore(snapshot: String, into directory: String, options: RunbookMember) async throws -> RestoreOutcome {
        note("restore")
        let files = FileManager.default
        let revisionFile = directory + "/revision"
        if let text = try? String(contentsOfFile: revisionFile, encoding: .utf8), let revision = Int64(text) {
            return RestoreOutcome(revision: revision)
        }
        let scratch = directory + ".partial"
        if files.fileExists(atPath: scratch) { try files.removeItem(atPath: scratch) }
        let bump: Int64 = switch options.bumpRevision {
        case nil: 0
        case .automatic: 1_000
        case .by(let count): count
        }
        let revision = Self.snapshotRevision + bump
        try files.createDirectory(atPath: scratch + "/member/snap", withIntermediateDirectories: true)
        try Data("snapshot of \(snapshot)".utf8).write(to: URL(fileURLWithPath: scratch + "/member/snap/db"))
        if lock.withLock({ defer { crashNextRestore = false }; return crashNextRestore }) { throw Crash() }
        try Data(String(revision).utf8).write(to: URL(fileURLWithPath: scratch + "/revision"))
        try files.moveItem(atPath: scratch, toPath: directory)
        return RestoreOutcome(revision: revision)
    }

    func probe(endpoint: String) async -> ProbeResult {
        note("probe")
        return lock.withLock { answer }()
    }

    /// FNV-1a, enough to tell plans apart in a test.
    func sha256(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    func now() -> Date { Date() }

    func run(_ command: RunbookCommand, timeout: Duration) async throws -> CommandResult {
        try await runner.run(command, timeout: timeout)
    }

    func locateExecutable(_ name: String) -> String? {
        runner.locateExecutable(name)
    }
}
