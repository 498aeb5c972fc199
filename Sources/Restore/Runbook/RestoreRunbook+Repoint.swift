import Storage
import Foundation

/// repoint and its undo: making the server use the restored data-dir, and the old one again.
extension RestoreRunbook {
    /// repoint, by the plan's kind. Each records what it replaces in the journal before replacing
    /// it (once: a resumed run keeps the first record) and recognises its own finished work:
    /// - symlink: `dataDir` already a symlink to the new data-dir ⇒ done; a real directory is
    ///   renamed aside first, and a resumed run finds it aside and only creates the link;
    /// - drop-in: the file already has our content ⇒ not rewritten; `daemon-reload` is repeated;
    /// - static pod: the manifest already names the new hostPath and not the old one ⇒ done.
    func repoint(journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        switch plan.repoint {
        case .symlink:
            return try repointSymlink(journal: &journal, fx: fx)
        case .systemdDropIn(_, let path):
            return try await repointDropIn(path: path, journal: &journal, fx: fx)
        case .staticPod(let manifest):
            return try repointManifest(manifest, journal: &journal, fx: fx)
        }
    }

    /// Where `dataDir` is renamed to when it is a real directory.
    func asidePath(runID: String) -> String { "\(plan.dataDir).pre-restore-\(runID)" }

    private func repointSymlink(journal: inout RunbookJournal, fx: RunbookEffects) throws -> String {
        let dataDir = plan.dataDir
        let newDataDir = journal.newDataDir
        switch try fx.entry(at: dataDir) {
        case .symlink(let target) where target == newDataDir:
            return "\(dataDir) already points at \(newDataDir)"
        case .symlink(let target):
            try record(.init(kind: .symlink, target: target), journal: &journal, fx: fx)
            try fx.pointSymlink(dataDir, at: newDataDir)
            return "\(dataDir) -> \(newDataDir) (was -> \(target))"
        case .directory:
            let aside = asidePath(runID: journal.runID)
            try record(.init(kind: .directory, asidePath: aside), journal: &journal, fx: fx)
            guard try !fx.exists(aside) else {
                throw RunbookError(.fileSystem, "\(dataDir) is a directory but \(aside) exists too; move one of them away")
            }
            try fx.move(dataDir, to: aside)
            try fx.pointSymlink(dataDir, at: newDataDir)
            return "\(dataDir) -> \(newDataDir) (the old data-dir is kept at \(aside))"
        case .missing:
            switch journal.previous.dataDir?.kind {
            case .directory?:
                fx.say("\(dataDir) is already aside at \(journal.previous.dataDir?.asidePath ?? "?")")
            case .symlink?:
                // Only a replaced link was recorded, and replacing is one rename: this is not our doing.
                throw RunbookError(.fileSystem, "\(dataDir) was a symlink when the run recorded it and is now missing; find out what removed it")
            case .missing?:
                break
            case nil:
                guard plan.dataDirMayBeMissing else {
                    throw RunbookError(.fileSystem, "\(dataDir) has disappeared since preflight; set dataDirMayBeMissing: true if its loss is expected")
                }
                try record(.init(kind: .missing), journal: &journal, fx: fx)
            }
            try fx.pointSymlink(dataDir, at: newDataDir)
            return "\(dataDir) -> \(newDataDir)"
        case .file, .other:
            throw RunbookError(.fileSystem, "\(dataDir) is neither a directory nor a symlink; the symlink repoint cannot replace it")
        }
    }

    private func record(_ facts: RunbookJournal.DataDirFacts, journal: inout RunbookJournal, fx: RunbookEffects) throws {
        guard journal.previous.dataDir == nil else { return }
        journal.previous.dataDir = facts
        try fx.save(journal)
    }

    private func repointDropIn(path: String, journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        let content = Data(SystemdDropIn.content(dataDir: journal.newDataDir).utf8)
        let current = try fx.read(path)
        if journal.previous.dropIn == nil {
            journal.previous.dropIn = .init(path: path, content: current.map { String(decoding: $0, as: UTF8.self) })
            try fx.save(journal)
        }
        let written = current == content ? "\(path) already sets the new data-dir" : "\(path) sets ETCD_DATA_DIR=\(journal.newDataDir)"
        if current != content {
            let directory = PathText.parent(of: path)
            if try !fx.isDirectory(directory) { try fx.makeDirectory(directory) }
            try fx.write(content, to: path, temporaryDirectory: directory, what: "Environment=ETCD_DATA_DIR=\(journal.newDataDir)")
        }
        try await fx.run(.exec(["systemctl", "daemon-reload"]), timeout: Self.daemonReloadTimeout)
        return written
    }

    private func repointManifest(_ manifest: String, journal: inout RunbookJournal, fx: RunbookEffects) throws -> String {
        let location = manifestLocation(manifest)
        guard let original = try fx.read(location.path) else {
            throw RunbookError(.manifest, "the manifest \(location.path) is missing")
        }
        if journal.previous.manifest == nil {
            let backupDirectory = manifestBackupDirectory(manifest)
            let backup = PathText.join(backupDirectory, "\(PathText.base(of: manifest)).pre-restore-\(journal.runID)")
            try fx.write(original, to: backup, temporaryDirectory: backupDirectory, what: "a copy of \(location.path) before the restore")
            journal.previous.manifest = .init(path: manifest, backupPath: backup)
            try fx.save(journal)
        }
        let edit = try StaticPodManifest.repoint(
            String(decoding: original, as: UTF8.self), manifest: location.path, from: plan.dataDir, to: journal.newDataDir)
        switch edit {
        case .alreadyDone:
            return "\(location.path) already mounts \(journal.newDataDir)"
        case .changed(let text, let volumes):
            try fx.write(Data(text.utf8), to: location.path, temporaryDirectory: location.temporaryDirectory,
                         what: "hostPath of \(volumes.joined(separator: ", "))")
            return "\(location.path): \(volumes.joined(separator: ", "))"
        }
    }

    /// undo-repoint: puts back what the journal recorded, whichever repoint kind recorded it.
    /// Idempotent: each undo first checks whether the old state is already back.
    func undoRepoint(journal: RunbookJournal, fx: RunbookEffects) async throws -> String {
        var undone: [String] = []
        if let facts = journal.previous.dataDir {
            undone.append(try undoSymlink(facts, newDataDir: journal.newDataDir, fx: fx))
        }
        if let facts = journal.previous.dropIn {
            undone.append(try await undoDropIn(facts, fx: fx))
        }
        if let facts = journal.previous.manifest {
            undone.append(try undoManifest(facts, fx: fx))
        }
        return undone.isEmpty ? "the repoint had changed nothing yet" : undone.joined(separator: "; ")
    }

    private func undoSymlink(_ facts: RunbookJournal.DataDirFacts, newDataDir: String, fx: RunbookEffects) throws -> String {
        let dataDir = plan.dataDir
        let current = try fx.entry(at: dataDir)
        switch facts.kind {
        case .symlink:
            guard let target = facts.target else { preconditionFailure("a symlink's facts carry its target") }
            if current == .symlink(target: target) { return "\(dataDir) already points at \(target)" }
            try requireOurLinkOrNothing(current, at: dataDir, newDataDir: newDataDir)
            try fx.pointSymlink(dataDir, at: target)
            return "\(dataDir) -> \(target) again"
        case .directory:
            guard let aside = facts.asidePath else { preconditionFailure("a moved directory's facts carry where to") }
            if current == .directory, try !fx.exists(aside) { return "\(dataDir) is already the old directory" }
            try requireOurLinkOrNothing(current, at: dataDir, newDataDir: newDataDir)
            if current != .missing { try fx.remove(dataDir) }
            try fx.move(aside, to: dataDir)
            return "\(aside) moved back to \(dataDir)"
        case .missing:
            try requireOurLinkOrNothing(current, at: dataDir, newDataDir: newDataDir)
            if current != .missing { try fx.remove(dataDir) }
            return "removed the symlink \(dataDir) (there was no data-dir before)"
        }
    }

    /// Refuses to replace anything at `dataDir` but the run's own symlink.
    private func requireOurLinkOrNothing(_ current: FileSystem.Entry, at dataDir: String, newDataDir: String) throws {
        guard current == .missing || current == .symlink(target: newDataDir) else {
            throw RunbookError(.fileSystem, "\(dataDir) is no longer the run's symlink to \(newDataDir) (\(current)); it was changed by hand: undo by hand")
        }
    }

    private func undoDropIn(_ facts: RunbookJournal.DropInFacts, fx: RunbookEffects) async throws -> String {
        let current = try fx.read(facts.path)
        let restored: String
        if let previous = facts.content {
            let data = Data(previous.utf8)
            if current != data {
                try fx.write(data, to: facts.path, temporaryDirectory: PathText.parent(of: facts.path), what: "its content before the restore")
            }
            restored = "\(facts.path) has its old content"
        } else {
            if current != nil { try fx.remove(facts.path) }
            restored = "\(facts.path) removed"
        }
        try await fx.run(.exec(["systemctl", "daemon-reload"]), timeout: Self.daemonReloadTimeout)
        return restored
    }

    private func undoManifest(_ facts: RunbookJournal.ManifestFacts, fx: RunbookEffects) throws -> String {
        let location = manifestLocation(facts.path)
        guard let original = try fx.read(facts.backupPath) else {
            throw RunbookError(.fileSystem, "the manifest's backup \(facts.backupPath) is missing; restore \(location.path) by hand")
        }
        if try fx.read(location.path) == original { return "\(location.path) is already the original" }
        try fx.write(original, to: location.path, temporaryDirectory: location.temporaryDirectory, what: "the copy \(facts.backupPath)")
        return "\(location.path) restored from \(facts.backupPath)"
    }

    /// Where the manifest is while the server is stopped (parked, when the server is that static
    /// pod), and a directory outside the manifests directory for the temporary file.
    func manifestLocation(_ manifest: String) -> (path: String, temporaryDirectory: String) {
        if let pod = plan.serverStaticPod, pod.manifest == manifest {
            return (pod.parkedManifest, pod.parkDir)
        }
        return (manifest, manifestBackupDirectory(manifest))
    }

    /// The server's park directory when it is this static pod, else the journal's directory: never
    /// the manifests directory, where kubelet would run a copy.
    func manifestBackupDirectory(_ manifest: String) -> String {
        if let pod = plan.serverStaticPod, pod.manifest == manifest { return pod.parkDir }
        return PathText.parent(of: journalPath)
    }

    static let daemonReloadTimeout: Duration = .seconds(60)
}
