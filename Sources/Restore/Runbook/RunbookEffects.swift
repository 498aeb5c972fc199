import Storage
import Foundation

/// Every change the runbook makes goes through here: it tells the operator each concrete action,
/// and in a dry run tells it as "would …" and does nothing but note it in an overlay, so that later
/// steps of the dry run see the file system as the real run would (a parked manifest, a new symlink).
struct RunbookEffects: Sendable {
    let dryRun: Bool
    let environment: any RunbookEnvironment
    let store: JournalStore
    let output: @Sendable (String) -> Void
    /// The step the lines belong to.
    var label: String = "runbook"
    /// What a dry run has pretended to change; `nil` for a real run.
    private let overlay: DryRunOverlay?

    init(dryRun: Bool, environment: any RunbookEnvironment, store: JournalStore, output: @escaping @Sendable (String) -> Void) {
        self.dryRun = dryRun
        self.environment = environment
        self.store = store
        self.output = output
        overlay = dryRun ? DryRunOverlay() : nil
    }

    func labeled(_ label: String) -> RunbookEffects {
        var copy = self
        copy.label = label
        return copy
    }

    func say(_ text: String) {
        output("[\(label)] \(text)")
    }

    func save(_ journal: RunbookJournal) throws {
        guard !dryRun else { return }
        try store.save(journal)
    }

    /// Runs `command`; a non-zero exit is an error quoting the end of its output.
    func run(_ command: RunbookCommand, timeout: Duration) async throws {
        guard act("run: \(command)") else { return }
        let result = try await environment.run(command, timeout: timeout)
        guard result.status == 0 else {
            let lastLines = result.output.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw RunbookError(.commandFailed, "'\(command)' exited with status \(result.status)\(lastLines.isEmpty ? "" : ": \(lastLines)")")
        }
    }

    /// Calls the injected restore; a dry run only notes the new directory.
    func restore(_ snapshot: String, into directory: String, options: RunbookMember) async throws -> RestoreOutcome? {
        let bump = switch options.bumpRevision {
        case nil: "no revision bump"
        case .automatic: "revision bump auto"
        case .by(let count): "revision bump \(count)"
        }
        let action = "restore \(snapshot) into \(directory) (member \(options.name), initial cluster \(options.initialCluster), token \(options.initialClusterToken), \(bump)\(options.markCompacted ? ", marked compacted" : ""))"
        guard act(action) else {
            overlay?.set(directory, .directory)
            return nil
        }
        return try await environment.restore(snapshot: snapshot, into: directory, options: options)
    }

    func move(_ source: String, to destination: String) throws {
        guard act("move \(source) -> \(destination)") else {
            try overlay?.move(source, to: destination)
            return
        }
        try FileSystem.move(source, to: destination)
    }

    func pointSymlink(_ path: String, at target: String) throws {
        guard act("symlink \(path) -> \(target) (via \(path).cairn-new-link, renamed over)") else {
            overlay?.set(path, .symlink(target))
            return
        }
        try FileSystem.replaceSymlink(at: path, target: target)
    }

    func write(_ data: Data, to path: String, temporaryDirectory: String, what: String) throws {
        guard act("write \(path) (\(what))") else {
            overlay?.set(path, .file(data))
            return
        }
        try FileSystem.writeAtomically(data, to: path, temporaryDirectory: temporaryDirectory)
    }

    func remove(_ path: String) throws {
        guard act("remove \(path)") else {
            overlay?.set(path, .missing)
            return
        }
        try FileSystem.remove(path)
    }

    func makeDirectory(_ path: String) throws {
        guard act("create the directory \(path)") else {
            overlay?.set(path, .directory)
            return
        }
        try FileSystem.makeDirectory(path)
    }

    // Reads, through the overlay in a dry run.

    func entry(at path: String) throws -> FileSystem.Entry {
        try overlay?.entry(at: path) ?? FileSystem.entry(at: path)
    }

    func read(_ path: String) throws -> Data? {
        try overlay?.read(path) ?? FileSystem.read(path)
    }

    func exists(_ path: String) throws -> Bool {
        try entry(at: path) != .missing
    }

    /// Whether `path` is a directory, following symlinks (a bounded number of them).
    func isDirectory(_ path: String) throws -> Bool {
        var current = path
        for _ in 0..<8 {
            switch try entry(at: current) {
            case .directory: return true
            case .symlink(let target): current = target.hasPrefix("/") ? target : PathText.join(PathText.parent(of: current), target)
            default: return false
            }
        }
        return false
    }

    /// Tells the action and whether to perform it.
    func act(_ action: String) -> Bool {
        say(dryRun ? "would \(action)" : action)
        return !dryRun
    }
}

/// The changes a dry run pretended to make, consulted before the real file system.
private final class DryRunOverlay: @unchecked Sendable {
    enum Simulated {
        case missing
        case directory
        case symlink(String)
        case file(Data?)
    }

    private let lock = NSLock()
    private var entries: [String: Simulated] = [:]

    func set(_ path: String, _ entry: Simulated) {
        lock.withLock { entries[path] = entry }
    }

    func move(_ source: String, to destination: String) throws {
        let moved: Simulated = switch try entry(at: source) {
        case .missing: .missing
        case .directory: .directory
        case .symlink(let target): .symlink(target)
        case .file, .other: .file(try read(source))
        }
        lock.withLock {
            entries[destination] = moved
            entries[source] = .missing
        }
    }

    func entry(at path: String) throws -> FileSystem.Entry {
        switch lock.withLock({ entries[path] }) {
        case nil: try FileSystem.entry(at: path)
        case .missing: .missing
        case .directory: .directory
        case .symlink(let target): .symlink(target: target)
        case .file: .file
        }
    }

    func read(_ path: String) throws -> Data? {
        switch lock.withLock({ entries[path] }) {
        case nil: try FileSystem.read(path)
        case .file(let data): data
        case .missing, .directory, .symlink: nil
        }
    }
}
