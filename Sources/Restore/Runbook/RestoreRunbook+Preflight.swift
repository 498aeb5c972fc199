import Storage
import Foundation

/// preflight: read-only checks, all of them run and reported, so one pass shows everything to fix.
/// It changes nothing and runs no command; the journal is written only once it passes, so a fixed
/// plan is simply run again.
extension RestoreRunbook {
    /// Space the restore needs besides twice the database: the WAL, the manifest, slack.
    static let restoreSlackBytes: Int64 = 64 << 20

    struct PreflightCheck {
        let passed: Bool
        let text: String

        static func pass(_ text: String) -> Self { Self(passed: true, text: text) }
        static func fail(_ text: String) -> Self { Self(passed: false, text: text) }
    }

    func preflight(snapshot: String, newDataDir: String, runID: String, fx: RunbookEffects) async throws -> SnapshotFacts {
        var checks: [PreflightCheck] = []
        var facts: SnapshotFacts?
        do {
            let verified = try await environment.verify(snapshot: snapshot)
            facts = verified
            checks.append(.pass("snapshot \(snapshot) verifies: revision \(verified.revision), database \(Self.bytes(verified.databaseBytes))"))
        } catch {
            checks.append(.fail("snapshot \(snapshot) does not verify: \(RunbookError.describing(error))"))
        }
        checks += restoreParentChecks(newDataDir: newDataDir, databaseBytes: facts?.databaseBytes)
        checks += dataDirChecks(runID: runID)
        if let apiServer = plan.apiServer {
            checks += serviceChecks("apiServer", apiServer)
        }
        checks += serviceChecks("server", plan.server.control)
        checks += repointChecks(newDataDir: newDataDir)
        checks += journalDirectoryChecks()
        for check in checks {
            fx.say("\(check.passed ? "ok" : "FAILED"): \(check.text)")
        }
        fx.say("now \(plan.endpoint) \(Self.describe(await environment.probe(endpoint: plan.endpoint)))")
        let failed = checks.filter { !$0.passed }.map(\.text)
        guard failed.isEmpty, let facts else {
            throw RunbookError(.preflightFailed, "preflight failed: \(failed.joined(separator: "; ")). Nothing was changed and no journal was written: fix the plan or the machine and run again")
        }
        return facts
    }

    private func restoreParentChecks(newDataDir: String, databaseBytes: Int64?) -> [PreflightCheck] {
        let parent = plan.restoreParent
        guard FileSystem.isDirectory(parent) else {
            return [.fail("restoreParent \(parent) does not exist or is not a directory")]
        }
        var checks: [PreflightCheck] = []
        if let databaseBytes {
            let neededBytes = 2 * databaseBytes + Self.restoreSlackBytes
            do {
                let freeBytes = try FileSystem.freeBytes(at: parent)
                let text = "\(parent) has \(Self.bytes(freeBytes)) free; the restore needs \(Self.bytes(neededBytes)) (2 × database + 64 MiB)"
                checks.append(freeBytes >= neededBytes ? .pass(text) : .fail(text))
            } catch {
                checks.append(.fail(RunbookError.describing(error)))
            }
        }
        checks.append(FileSystem.exists(newDataDir)
            ? .fail("the new data-dir \(newDataDir) already exists")
            : .pass("the new data-dir \(newDataDir) does not exist yet"))
        let resolvedParent = FileSystem.resolved(parent) ?? parent
        let resolvedDataDir = FileSystem.resolved(plan.dataDir) ?? plan.dataDir
        if PathText.isInside(parent, directory: plan.dataDir) || PathText.isInside(resolvedParent, directory: resolvedDataDir) {
            checks.append(.fail("restoreParent \(parent) lies inside dataDir \(plan.dataDir); the restored data-dir must be outside the old one"))
        }
        return checks
    }

    private func dataDirChecks(runID: String) -> [PreflightCheck] {
        let dataDir = plan.dataDir
        let missingText = "set dataDirMayBeMissing: true if the member's data is lost"
        let entry: FileSystem.Entry
        do {
            entry = try FileSystem.entry(at: dataDir)
        } catch {
            return [.fail(RunbookError.describing(error))]
        }
        var checks: [PreflightCheck] = []
        switch entry {
        case .directory:
            checks.append(.pass("dataDir \(dataDir) is a directory"))
            if plan.repoint == .symlink {
                if FileSystem.device(of: dataDir) != FileSystem.device(of: PathText.parent(of: dataDir)) {
                    checks.append(.fail("dataDir \(dataDir) is a mount point and cannot be renamed aside; make dataDir a symlink to the mount, or repoint with systemdDropIn"))
                }
                let aside = asidePath(runID: runID)
                if FileSystem.exists(aside) { checks.append(.fail("\(aside), where the old data-dir would be moved, already exists")) }
            }
        case .symlink(let target) where FileSystem.isDirectory(dataDir):
            checks.append(.pass("dataDir \(dataDir) is a symlink to the directory \(target)"))
        case .symlink(let target):
            checks.append(plan.dataDirMayBeMissing
                ? .pass("dataDir \(dataDir) is a symlink to \(target), which is not a directory (allowed: dataDirMayBeMissing)")
                : .fail("dataDir \(dataDir) is a symlink to \(target), which is not a directory; \(missingText)"))
        case .missing:
            checks.append(plan.dataDirMayBeMissing
                ? .pass("dataDir \(dataDir) does not exist (allowed: dataDirMayBeMissing)")
                : .fail("dataDir \(dataDir) does not exist; \(missingText)"))
            if plan.repoint == .symlink, !FileSystem.isDirectory(PathText.parent(of: dataDir)) {
                checks.append(.fail("\(PathText.parent(of: dataDir)), where the dataDir symlink would be created, is not a directory"))
            }
        case .file, .other:
            checks.append(.fail("dataDir \(dataDir) is neither a directory nor a symlink"))
        }
        return checks
    }

    private func serviceChecks(_ role: String, _ control: RunbookPlan.ServiceControl) -> [PreflightCheck] {
        switch control {
        case .actions(let stop, let start):
            return [actionCheck("\(role) stop", stop, verb: "stop"), actionCheck("\(role) start", start, verb: "start")]
        case .staticPod(let pod):
            return staticPodChecks(role, pod)
        }
    }

    private func actionCheck(_ what: String, _ action: RunbookPlan.Action, verb: String) -> PreflightCheck {
        let command = action.command(verb: verb)
        guard let name = command.arguments.first, let executable = environment.locateExecutable(name) else {
            return .fail("\(what): \(command.arguments.first ?? "?") is not an executable in PATH")
        }
        return .pass("\(what): \(command) (\(executable))")
    }

    private func staticPodChecks(_ role: String, _ pod: RunbookPlan.StaticPod) -> [PreflightCheck] {
        var checks: [PreflightCheck] = []
        guard FileSystem.isDirectory(pod.parkDir) else {
            return [.fail("\(role) parkDir \(pod.parkDir) does not exist or is not a directory")]
        }
        if isInsideManifests(pod.parkDir, manifest: pod.manifest) {
            checks.append(.fail("\(role) parkDir \(pod.parkDir) is inside the manifests directory \(pod.manifestsDir): kubelet would run a parked manifest"))
        }
        if FileSystem.device(of: pod.parkDir) != FileSystem.device(of: pod.manifestsDir) {
            checks.append(.fail("\(role) parkDir \(pod.parkDir) is not on the file system of \(pod.manifestsDir): parking must be a rename"))
        }
        switch (FileSystem.exists(pod.manifest), FileSystem.exists(pod.parkedManifest)) {
        case (true, false): checks.append(.pass("\(role) manifest \(pod.manifest) will be parked in \(pod.parkDir)"))
        case (false, true): checks.append(.pass("\(role) manifest is already parked at \(pod.parkedManifest)"))
        case (true, true): checks.append(.fail("both \(pod.manifest) and \(pod.parkedManifest) exist: remove the stale one"))
        case (false, false): checks.append(.fail("\(role) manifest \(pod.manifest) does not exist (nor parked at \(pod.parkedManifest))"))
        }
        return checks
    }

    private func repointChecks(newDataDir: String) -> [PreflightCheck] {
        switch plan.repoint {
        case .symlink:
            return [.pass("repoint: \(plan.dataDir) will be a symlink to \(newDataDir)")]
        case .systemdDropIn(let unit, let path):
            var checks = [environment.locateExecutable("systemctl") == nil
                ? PreflightCheck.fail("repoint: systemctl is not an executable in PATH")
                : .pass("repoint: \(path) will set ETCD_DATA_DIR for \(unit) (its ExecStart must not pass --data-dir or --config-file)")]
            let unitDirectory = PathText.parent(of: path)
            if !FileSystem.isDirectory(unitDirectory), !FileSystem.isDirectory(PathText.parent(of: unitDirectory)) {
                checks.append(.fail("repoint: neither \(unitDirectory) nor its parent exists"))
            }
            if let entry = try? FileSystem.entry(at: path), entry != .missing, entry != .file {
                checks.append(.fail("repoint: \(path) exists and is not a regular file"))
            }
            return checks
        case .staticPod(let manifest):
            return manifestChecks(manifest, newDataDir: newDataDir)
        }
    }

    private func manifestChecks(_ manifest: String, newDataDir: String) -> [PreflightCheck] {
        var checks: [PreflightCheck] = []
        let location = manifestLocation(manifest)
        let backupDirectory = manifestBackupDirectory(manifest)
        if !FileSystem.isWritableDirectory(backupDirectory) {
            checks.append(.fail("repoint: \(backupDirectory), for the manifest's backup, is not a writable directory"))
        }
        if isInsideManifests(backupDirectory, manifest: manifest) {
            checks.append(.fail("repoint: the manifest's backup would be in \(backupDirectory), inside the manifests directory; keep the plan elsewhere"))
        }
        if FileSystem.device(of: location.temporaryDirectory) != FileSystem.device(of: PathText.parent(of: location.path)) {
            checks.append(.fail("repoint: \(location.temporaryDirectory) is not on the file system of \(PathText.parent(of: location.path)), so the edited manifest cannot be renamed into place; keep the plan on that file system"))
        }
        do {
            // Before the stop the manifest may still be live where it will later be parked.
            guard let data = try FileSystem.read(location.path) ?? FileSystem.read(manifest) else {
                return checks + [.fail("repoint: the manifest \(manifest) does not exist")]
            }
            switch try StaticPodManifest.repoint(String(decoding: data, as: UTF8.self), manifest: manifest, from: plan.dataDir, to: newDataDir) {
            case .alreadyDone:
                checks.append(.fail("repoint: \(manifest) already mounts \(newDataDir), which does not exist yet"))
            case .changed(_, let volumes):
                checks.append(.pass("repoint: \(manifest) will mount \(newDataDir): \(volumes.joined(separator: ", "))"))
            }
        } catch {
            checks.append(.fail("repoint: \(RunbookError.describing(error))"))
        }
        return checks
    }

    private func journalDirectoryChecks() -> [PreflightCheck] {
        let directory = PathText.parent(of: journalPath)
        var checks: [PreflightCheck] = [FileSystem.isWritableDirectory(directory)
            ? .pass("the journal \(journalPath) can be written")
            : .fail("the plan's directory \(directory) is not writable: the journal \(journalPath) cannot be written")]
        for manifest in staticPodManifests where isInsideManifests(directory, manifest: manifest) {
            checks.append(.fail("the plan is in \(PathText.parent(of: manifest)), kubelet's manifests directory: kubelet would read its journal; keep the plan elsewhere"))
        }
        return checks
    }

    private var staticPodManifests: [String] {
        var manifests: [String] = []
        if case .staticPod(let pod)? = plan.apiServer { manifests.append(pod.manifest) }
        if let pod = plan.serverStaticPod { manifests.append(pod.manifest) }
        if case .staticPod(let manifest) = plan.repoint { manifests.append(manifest) }
        return manifests
    }

    /// Whether `directory` is `manifest`'s directory or below it, by path and with symlinks resolved.
    private func isInsideManifests(_ directory: String, manifest: String) -> Bool {
        let manifests = PathText.parent(of: manifest)
        return PathText.isInside(directory, directory: manifests)
            || PathText.isInside(FileSystem.resolved(directory) ?? directory, directory: FileSystem.resolved(manifests) ?? manifests)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }
}
