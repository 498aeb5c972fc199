import Backup
import Foundation
import Logging

/// One scheduled snapshot: write it into the backup directory, verify it end to end, record it
/// in the catalog, prune to the retention policy, and update the metrics file. The scheduler
/// runs it on its schedule; `cairn schedule once` runs it once (for system cron and timers).
public struct SnapshotJob: Sendable {
    public var directory: String
    public var policy: RetentionPolicy
    /// Retention buckets (days, weeks, months) are those of this time zone.
    public var timeZone: TimeZone
    /// Writes a snapshot archive at the given path (and its `.sha256`), e.g. from a server.
    public var save: @Sendable (_ path: String) async throws -> Void
    public var now: @Sendable () -> Date
    public var logger: Logger
    /// The key `save` encrypts with, needed again to verify what it wrote.
    public var encryptionKey: EncryptionKey?

    public init(directory: String, policy: RetentionPolicy, timeZone: TimeZone,
        save: @escaping @Sendable (_ path: String) async throws -> Void, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger, encryptionKey: EncryptionKey? = nil)
    {
        self.encryptionKey = encryptionKey
        self.directory = directory
        self.policy = policy
        self.timeZone = timeZone
        self.save = save
        self.now = now
        self.logger = logger
    }

    /// Takes, verifies and catalogs one snapshot, then prunes. Throws when the snapshot could
    /// not be written or did not verify (a failed one stays on disk, marked failed, for a look).
    @discardableResult
    public func run() async throws -> BackupCatalog.Entry {
        var metrics = BackupMetrics.load(from: directory)
        let started = now()
        metrics.lastAttemptTimestampSeconds = started.timeIntervalSince1970
        do {
            let entry = try await takeAndVerify(at: started)
            guard entry.verification.ok else {
                throw SchedulerError(.snapshot, "\(directory)/\(entry.file) was written but does not verify: \(entry.verification.detail)")
            }
            let catalog = try prune(dryRun: false).catalog
            metrics.lastSuccessTimestampSeconds = now().timeIntervalSince1970
            metrics.lastDurationSeconds = now().timeIntervalSince(started)
            metrics.lastSizeBytes = entry.sizeBytes
            metrics.consecutiveFailures = 0
            metrics.snapshotCount = catalog.snapshots.count
            try metrics.save(to: directory)
            logger.info("snapshot written and verified", metadata: [
                "file": "\(entry.file)", "revision": "\(entry.manifest.revision)", "bytes": "\(entry.sizeBytes)",
                "seconds": "\(String(format: "%.2f", metrics.lastDurationSeconds ?? 0))",
            ])
            return entry
        } catch {
            metrics.consecutiveFailures += 1
            try? metrics.save(to: directory)
            throw error
        }
    }

    private func takeAndVerify(at started: Date) async throws -> BackupCatalog.Entry {
        let file = try freshName(for: started)
        let path = directory + "/" + file
        try await save(path)
        let sizeBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0).map(Int64.init) ?? 0
        let scratch = directory + "/.verify-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let entry: BackupCatalog.Entry
        do {
            let report = try SnapshotArchiveReader.read(path: path, databaseDirectory: scratch, deep: true, encryptionKey: encryptionKey)
            entry = BackupCatalog.Entry(file: file, createdAt: started, sizeBytes: sizeBytes, sha256: report.sha256,
                manifest: report.manifest,
                verification: .init(at: now(), ok: true, detail: report.checks.map { "\($0.name): \($0.result)" }.joined(separator: "; ")))
        } catch {
            // Recorded, not deleted: what failed is worth a look, and retention never counts it.
            let manifest = (try? SnapshotArchiveReader.quickManifest(path: path)) ?? nil
            guard let manifest else { throw SchedulerError(.snapshot, "\(path) was written but does not verify: \(error)") }
            entry = BackupCatalog.Entry(file: file, createdAt: started, sizeBytes: sizeBytes,
                sha256: (try? SnapshotArchiveReader.sha256(of: path)) ?? "", manifest: manifest,
                verification: .init(at: now(), ok: false, detail: "\(error)"))
        }
        var catalog = try BackupCatalog.load(from: directory)
        catalog.snapshots.append(entry)
        try catalog.save(to: directory)
        return entry
    }

    /// `cairn-20261125T070000Z.cairn`, or with a counter when that name is taken.
    private func freshName(for date: Date) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stem = "cairn-" + formatter.string(from: date)
        for counter in 1...100 {
            let name = counter == 1 ? stem + ".cairn" : stem + "-\(counter).cairn"
            if !FileManager.default.fileExists(atPath: directory + "/" + name) { return name }
        }
        throw SchedulerError(.snapshot, "100 snapshots named \(stem)* already exist in \(directory)")
    }

    /// Applies the retention policy to the catalogued snapshots: deletes (unless `dryRun`)
    /// those it does not keep, with their `.sha256`, and returns the plan and the new catalog.
    public func prune(dryRun: Bool) throws -> (plan: RetentionPlan, catalog: BackupCatalog) {
        var catalog = try BackupCatalog.load(from: directory)
        let records = catalog.snapshots.map {
            SnapshotRecord(name: $0.file, createdAt: $0.createdAt, verified: $0.verification.ok, sizeBytes: $0.sizeBytes)
        }
        let plan = Retention.plan(records, policy: policy, timeZone: timeZone)
        guard !dryRun, !plan.delete.isEmpty else { return (plan, catalog) }
        let doomed = Set(plan.delete.map(\.record.name))
        for name in doomed.sorted() {
            for path in [directory + "/" + name, directory + "/" + name + ".sha256"] {
                do {
                    try FileManager.default.removeItem(atPath: path)
                } catch CocoaError.fileNoSuchFile {
                    continue
                }
            }
            logger.info("pruned a snapshot", metadata: [
                "file": "\(name)", "reason": "\(plan.delete.first { $0.record.name == name }?.reasons.joined(separator: "; ") ?? "")",
            ])
        }
        catalog.snapshots.removeAll { doomed.contains($0.file) }
        try catalog.save(to: directory)
        return (plan, catalog)
    }
}
