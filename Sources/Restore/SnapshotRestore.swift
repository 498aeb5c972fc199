import Backup
import Foundation
import Storage

/// `cairn snapshot restore FILE --data-dir DIR`: a fresh data-dir for a member of a new
/// cluster, holding the snapshot's key space, revisions and leases under new cluster and member
/// ids derived from `--initial-cluster` and `--initial-cluster-token` (so restoring the same
/// snapshot with the same flags on every member gives one working cluster).
///
/// The data-dir is assembled in `DIR.restoring` and renamed to DIR only once complete and
/// durable: a crash or a failed check leaves no DIR that a server would start from.
public enum SnapshotRestore {
    /// Names the scratch directory as ours, so a later restore may clear what a crashed one left.
    static let scratchMarker = ".cairn-restore-in-progress"

    public struct Progress: Sendable {
        public var bytes: Int
        public var totalBytes: Int
    }

    public static func restore(snapshot path: String, into target: String, options: RestoreOptions,
        progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> RestoreSummary
    {
        guard let founding = DataDirectory.founding(options.initialCluster, name: options.name,
            token: options.initialClusterToken)
        else {
            throw RestoreError(.invalidOptions,
                "--initial-cluster has no member named \"\(options.name)\" (--name); it lists \(options.initialCluster.map(\.name).joined(separator: ", "))")
        }
        if options.markCompacted && options.revisionBump == nil {
            throw RestoreError(.invalidOptions, "--mark-compacted needs --bump-revision (a number, or auto)")
        }
        try checkTargetIsEmpty(target)
        let kind = try SnapshotKind.detect(path: path)
        let scratch = try makeScratch(for: target)
        let directory = DataDirectory(root: scratch)
        do {
            let source = try await loadBackend(kind, from: path, into: directory, options: options, progress: progress)
            let summary = try await makeMember(directory, founding: founding, source: source, options: options,
                target: target)
            try finish(scratch: scratch, target: target)
            return summary
        } catch {
            // Only our own scratch, which no server ever started from, is removed.
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// What the snapshot held, before the restore changed anything.
    struct LoadedBackend {
        var format: String
        var revision: Int64
        var compactRevision: Int64
        /// Live keys at `revision`, when the snapshot's manifest says (and `--deep` checked it).
        var keyCount: Int64? = nil
    }

    private static func loadBackend(_ kind: SnapshotKind, from path: String, into directory: DataDirectory,
        options: RestoreOptions, progress: @escaping @Sendable (Progress) -> Void) async throws -> LoadedBackend
    {
        let total = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        switch kind {
        case .cairnArchive:
            let report: SnapshotArchiveReader.Report
            do {
                report = try SnapshotArchiveReader.read(path: path, databaseDirectory: directory.snapshotDirectory,
                    deep: !options.skipHashCheck, checkSidecar: !options.skipHashCheck, encryptionKey: options.encryptionKey,
                    progress: { progress(Progress(bytes: $0, totalBytes: total)) })
            } catch let error as BackupError {
                throw RestoreError(.invalidSnapshot, "\(path) does not verify: \(error)")
            }
            let manifest = report.manifest
            guard manifest.source == "etcd" else {
                return LoadedBackend(format: "cairn", revision: manifest.revision, compactRevision: manifest.compactRevision,
                    keyCount: manifest.keyCount)
            }
            let bolt = directory.snapshotDirectory + "/etcd.bolt"
            try moveItem(directory.backendPath, to: bolt)
            let imported = try await EtcdImport.run(boltFile: bolt, length: nil, into: directory.backendPath,
                progress: { progress(Progress(bytes: $0, totalBytes: total)) })
            try FileManager.default.removeItem(atPath: bolt)
            return LoadedBackend(format: "etcd-archive", revision: imported.revision,
                compactRevision: imported.compactRevision)
        case .etcdSnapshot:
            let length = try EtcdImport.checkedLength(of: path, skipHashCheck: options.skipHashCheck)
            let imported = try await EtcdImport.run(boltFile: path, length: length, into: directory.backendPath,
                progress: { progress(Progress(bytes: $0, totalBytes: total)) })
            return LoadedBackend(format: "etcd", revision: imported.revision, compactRevision: imported.compactRevision)
        }
    }

    /// Gives the backend its new identity and revision, and writes the member's new WAL.
    private static func makeMember(_ directory: DataDirectory, founding: (identity: MemberIdentity, records: [MemberRecord]),
        source: LoadedBackend, options: RestoreOptions, target: String) async throws -> RestoreSummary
    {
        let size = (try? FileManager.default.attributesOfItem(atPath: directory.backendPath)[.size] as? Int) ?? 0
        // Room for the bump's meta writes and the members on top of the snapshot's own size.
        let store = try MVCCStore(path: directory.backendPath,
            options: MVCCOptions(quotaBytes: max(MVCCOptions.defaultQuotaBytes, 2 * size)))
        defer { store.close() }
        let status = try store.status()
        guard status.revision == source.revision else {
            throw RestoreError(.invalidSnapshot,
                "the restored backend is at revision \(status.revision), the snapshot says \(source.revision)")
        }
        let keyCount = try source.keyCount ?? store.hashKV(revision: status.revision).keyCount
        let bump = options.revisionBump?.amount(forSnapshotRevision: status.revision) ?? 0
        let (sum, overflow) = status.revision.addingReportingOverflow(bump)
        guard !overflow else {
            throw RestoreError(.invalidOptions, "--bump-revision \(bump) takes revision \(status.revision) past the largest revision")
        }
        let alarms = try store.alarms()
        let leases = try store.leases()
        try await store.write { [markCompacted = options.markCompacted] transaction in
            if bump > 0 { try transaction.advanceRevision(to: sum, compact: markCompacted) }
            try transaction.refreshLeases()
        }
        let (wal, _) = try WAL.open(directory: directory.walDirectory,
            options: WALOptions(metadata: founding.identity.walMetadata))
        defer { wal.close() }
        try await DataDirectory.bootstrap(store: store, wal: wal, identity: founding.identity, members: founding.records)
        let final = try store.status()
        return RestoreSummary(
            dataDir: target, snapshotFormat: source.format, snapshotRevision: source.revision,
            snapshotCompactRevision: source.compactRevision, revision: final.revision,
            compactRevision: final.compactRevision, revisionBump: bump, keyCount: keyCount, leaseCount: leases.count,
            clusterID: hex(founding.identity.clusterID), memberID: hex(founding.identity.memberID), name: options.name,
            members: founding.records.map { .init(name: $0.name, id: hex($0.id), peerURLs: $0.peerURLs) },
            alarmsCleared: alarms.map { "\($0.kind) on member \(hex($0.memberID))" }, databaseBytes: Int64(size))
    }

    /// Refuses a target that holds anything: a restore never overwrites a data-dir.
    private static func checkTargetIsEmpty(_ target: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw RestoreError(.targetNotEmpty, "--data-dir \(target) exists and is not a directory")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
        guard entries.isEmpty else {
            throw RestoreError(.targetNotEmpty,
                "--data-dir \(target) is not empty (it holds \(entries.sorted().prefix(5).joined(separator: ", "))); restore into a new directory, or move this one aside first")
        }
    }

    /// `target.restoring`, fresh; one left by a crashed restore (it has our marker) is cleared.
    private static func makeScratch(for target: String) throws -> String {
        let scratch = target + ".restoring"
        if FileManager.default.fileExists(atPath: scratch) {
            guard FileManager.default.fileExists(atPath: scratch + "/" + scratchMarker) else {
                throw RestoreError(.targetNotEmpty,
                    "\(scratch) exists and was not left by a cairn restore; move it away first")
            }
            try FileManager.default.removeItem(atPath: scratch)
        }
        do {
            try FileManager.default.createDirectory(atPath: DataDirectory(root: scratch).snapshotDirectory,
                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: scratch + "/" + scratchMarker, contents: nil) else {
                throw RestoreError(.io, "cannot create \(scratch)/\(scratchMarker)")
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: scratch)
        } catch {
            throw RestoreError(.io, "cannot create \(scratch): \(error.localizedDescription)")
        }
        return scratch
    }

    /// Makes the scratch durable, then renames it to the target in one step (rename(2) may
    /// replace an empty directory).
    private static func finish(scratch: String, target: String) throws {
        try FileManager.default.removeItem(atPath: scratch + "/" + scratchMarker)
        for directory in [scratch + "/member/snap", scratch + "/member/wal", scratch + "/member", scratch] {
            try syncDirectory(directory)
        }
        guard rename(scratch, target) == 0 else {
            throw RestoreError(.io, "cannot rename \(scratch) to \(target): \(String(cString: strerror(errno)))")
        }
        try syncDirectory(PathText.parent(of: target))
    }

    private static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw RestoreError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RestoreError(.io, "cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }

    private static func moveItem(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw RestoreError(.io, "cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    static func hex(_ id: UInt64) -> String { String(id, radix: 16) }
}
