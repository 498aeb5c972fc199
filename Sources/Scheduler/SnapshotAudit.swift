import Backup
import Foundation

/// `cairn snapshot audit DIR`: verifies every snapshot archive (`*.cairn`) in a backup
/// directory and every entry of its catalog, several at a time, and says which snapshots fail
/// and why: a check that fails (with its location), a file the catalog does not list, a catalog
/// entry whose file is gone, a file whose SHA-256 is not the one catalogued. The audit itself
/// changes nothing on disk; ``record(_:drill:in:)`` writes its result into the catalog and the
/// metrics file.
public struct SnapshotAudit: Sendable {
    public var directory: String
    /// Also recompute each snapshot's KV hash, key count and revision range (`--deep`).
    public var deep: Bool
    /// The key encrypted archives were sealed with.
    public var encryptionKey: EncryptionKey?
    /// The newest good snapshot must be younger than this (`--max-age`).
    public var maxAge: Duration?
    /// Snapshots verified at once; the core count by default.
    public var parallelism: Int
    /// Catalog entries whose file is gone are not failures but dropped when recorded (`--forget-missing`).
    public var forgetMissing = false
    public var now: @Sendable () -> Date

    public init(directory: String, deep: Bool = false, encryptionKey: EncryptionKey? = nil, maxAge: Duration? = nil,
        parallelism: Int = ProcessInfo.processInfo.activeProcessorCount, now: @escaping @Sendable () -> Date = { Date() })
    {
        self.directory = directory
        self.deep = deep
        self.encryptionKey = encryptionKey
        self.maxAge = maxAge
        self.parallelism = max(1, parallelism)
        self.now = now
    }

    /// The file name suffix of the archives an audit looks at (the scheduler writes `cairn-<time>.cairn`).
    public static let archiveSuffix = ".cairn"

    public func run() throws -> AuditReport {
        let started = now()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SchedulerError(.io, "\(directory) is not a directory")
        }
        let catalog = try BackupCatalog.load(from: directory)
        let catalogued = Dictionary(catalog.snapshots.map { ($0.file, $0) }) { _, newer in newer }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(Self.archiveSuffix) && !$0.hasPrefix(".") }
        let files = Set(onDisk).union(catalogued.keys).sorted()

        // Databases are unpacked beside the archives (same file system, same space), or under
        // $TMPDIR when the directory is read-only (a mounted copy being audited).
        let scratchRoot = access(directory, W_OK) == 0 ? directory : FileManager.default.temporaryDirectory.path
        let rows = AuditSlots(count: files.count)
        DispatchQueue.concurrentPerform(iterations: min(parallelism, max(1, files.count))) { _ in
            while let index = rows.nextIndex() {
                rows.fill(index, audit(files[index], catalogued: catalogued[files[index]], onDisk: onDisk.contains(files[index]),
                    scratchRoot: scratchRoot))
            }
        }
        var report = AuditReport(directory: directory, startedAt: started, finishedAt: now(), deep: deep,
            rows: rows.values.compactMap { $0 })
        let good = report.rows.filter { $0.ok && !$0.forgotten }.compactMap { row in row.createdAt.map { (row.file, $0) } }
        report.newestGood = good.max { $0.1 < $1.1 }.map { file, created in
            AuditReport.NewestGood(file: file, createdAt: created, ageSeconds: report.finishedAt.timeIntervalSince(created))
        }
        if let maxAge {
            let limit = maxAge.seconds
            if let newest = report.newestGood {
                if newest.ageSeconds > limit {
                    report.staleness = "the newest good snapshot, \(newest.file), is \(Self.describe(seconds: newest.ageSeconds)) old, older than --max-age \(Self.describe(seconds: limit))"
                }
            } else {
                report.staleness = "no snapshot in \(directory) is good, so none is younger than --max-age \(Self.describe(seconds: limit))"
            }
        }
        return report
    }

    /// One snapshot's row: the archive read and checked in a scratch directory of its own.
    private func audit(_ file: String, catalogued: BackupCatalog.Entry?, onDisk: Bool, scratchRoot: String) -> AuditRow {
        let path = directory + "/" + file
        var row = AuditRow(file: file, inCatalog: catalogued != nil, createdAt: catalogued?.createdAt,
            revision: catalogued?.manifest.revision, keys: catalogued?.manifest.keyCount, sizeBytes: catalogued?.sizeBytes)
        guard onDisk else {
            if forgetMissing {
                row.forgotten = true
            } else {
                row.problems.append(AuditRow.Problem(kind: .missingFile,
                    detail: "the catalog lists \(file) but the file is gone (run the audit with --forget-missing to drop the entry)"))
            }
            return row
        }
        row.sizeBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil).map(Int64.init)
        if catalogued == nil {
            row.problems.append(AuditRow.Problem(kind: .notInCatalog,
                detail: "\(file) is in the directory but not in \(BackupCatalog.fileName): the scheduler neither prunes nor reports it"))
        }
        do {
            let report = try read(path, checkSidecar: true, scratchRoot: scratchRoot)
            row.checks = report.checks.map { "\($0.name): \($0.result)" }
            row.revision = report.manifest.revision
            row.keys = report.manifest.keyCount
            row.kvHash = report.manifest.kvHash
            row.createdAt = row.createdAt ?? Self.parse(report.manifest.createdAt)
            if let catalogued, !catalogued.sha256.isEmpty, catalogued.sha256 != report.sha256 {
                row.problems.append(AuditRow.Problem(kind: .catalogMismatch,
                    detail: "catalog sha256: the file's SHA-256 is \(report.sha256), \(BackupCatalog.fileName) recorded \(catalogued.sha256)"))
            }
        } catch {
            row.problems.append(AuditRow.Problem(kind: .verification,
                detail: "\(error)\(damage(behind: error, at: path, scratchRoot: scratchRoot))"))
            if row.createdAt == nil, let manifest = try? SnapshotArchiveReader.quickManifest(path: path) {
                row.createdAt = Self.parse(manifest.createdAt)
            }
        }
        if row.createdAt == nil {
            row.createdAt = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
        }
        return row
    }

    /// When only the sidecar check failed, what the archive's own checks say about the damage
    /// (a truncated stream, a bad frame checksum, and where), so the row says what is wrong.
    private func damage(behind error: any Error, at path: String, scratchRoot: String) -> String {
        guard let error = error as? BackupError, error.check == "outer sha256" else { return "" }
        do {
            _ = try read(path, checkSidecar: false, scratchRoot: scratchRoot)
            return "; the archive's own checks pass: the file or its sidecar was changed after it was written"
        } catch {
            return "; then \(error)"
        }
    }

    /// Every check of the archive at `path`, its database unpacked in a scratch directory of
    /// its own under `scratchRoot` and removed afterwards.
    private func read(_ path: String, checkSidecar: Bool, scratchRoot: String) throws -> SnapshotArchiveReader.Report {
        let scratch = scratchRoot + "/.audit-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        } catch {
            throw SchedulerError(.io, "cannot create a scratch directory \(scratch) to check the database in: \(error.localizedDescription)")
        }
        return try SnapshotArchiveReader.read(path: path, databaseDirectory: scratch, deep: deep, checkSidecar: checkSidecar,
            encryptionKey: encryptionKey)
    }

    /// Writes an audit (and a drill, when one ran) into the catalog and the metrics file:
    /// each audited entry's verification becomes the audit's finding, and with `forgetMissing`
    /// entries whose file is gone are dropped. Re-reads the catalog first, so entries a
    /// scheduler added meanwhile are kept.
    public static func record(_ report: AuditReport, drill: DrillRecord?, in directory: String) throws {
        var catalog = try BackupCatalog.load(from: directory)
        let rows = Dictionary(report.rows.map { ($0.file, $0) }) { _, newer in newer }
        for index in catalog.snapshots.indices {
            guard let row = rows[catalog.snapshots[index].file], !row.forgotten,
                row.problems.allSatisfy({ $0.kind != .missingFile })
            else { continue }
            catalog.snapshots[index].verification = BackupCatalog.Verification(at: report.finishedAt, ok: row.ok,
                detail: row.ok ? "audit\(report.deep ? " --deep" : ""): " + row.checks.joined(separator: "; ") : row.problemText)
        }
        let forgotten = Set(report.rows.filter(\.forgotten).map(\.file))
        catalog.snapshots.removeAll { forgotten.contains($0.file) }
        catalog.lastAudit = AuditRecord(report)
        if let drill {
            catalog.lastDrill = drill
            if drill.ok { catalog.lastSuccessfulDrill = drill }
        }
        try catalog.save(to: directory)

        var metrics = BackupMetrics.load(from: directory)
        metrics.snapshotCount = catalog.snapshots.count
        metrics.lastAuditTimestampSeconds = report.finishedAt.timeIntervalSince1970
        metrics.auditFailingSnapshots = report.failing.count
        metrics.newestVerifiedSnapshotTimestampSeconds = report.newestGood?.createdAt.timeIntervalSince1970
        metrics.newestVerifiedSnapshotAgeSeconds = report.newestGood?.ageSeconds
        if let drill {
            metrics.lastDrillTimestampSeconds = drill.at.timeIntervalSince1970
            metrics.lastDrillSuccess = drill.ok
            if drill.ok { metrics.lastSuccessfulDrillTimestampSeconds = drill.at.timeIntervalSince1970 }
        }
        try metrics.save(to: directory)
    }

    static func parse(_ timestamp: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: timestamp) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: timestamp)
    }

    /// `3d4h`, `2h5m`, `40s`: an age at a glance.
    public static func describe(seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (days, hours, minutes, rest) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(rest)s" }
        return "\(rest)s"
    }
}

/// The rows concurrent workers fill: each takes the next unaudited index until none is left.
private final class AuditSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [AuditRow?]
    private var handedOut = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func nextIndex() -> Int? {
        lock.withLock {
            guard handedOut < slots.count else { return nil }
            defer { handedOut += 1 }
            return handedOut
        }
    }

    func fill(_ index: Int, _ row: AuditRow) { lock.withLock { slots[index] = row } }

    var values: [AuditRow?] { lock.withLock { slots } }
}

/// What an audit found, one row per snapshot (`-w json` prints it).
public struct AuditReport: Codable, Sendable {
    public struct NewestGood: Codable, Sendable {
        public var file: String
        public var createdAt: Date
        public var ageSeconds: Double
    }

    public var directory: String
    public var startedAt: Date
    public var finishedAt: Date
    public var deep: Bool
    public var rows: [AuditRow]
    public var newestGood: NewestGood?
    /// Why the newest good snapshot is too old for `--max-age`; nil when it is young enough.
    public var staleness: String?

    public var failing: [AuditRow] { rows.filter { !$0.ok } }
    /// Every snapshot good and the newest young enough.
    public var passed: Bool { failing.isEmpty && staleness == nil }
}

public struct AuditRow: Codable, Sendable {
    public struct Problem: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            /// A check of the archive failed.
            case verification
            /// The file is in the directory but not in the catalog.
            case notInCatalog = "not-in-catalog"
            /// The catalog lists the file but it is gone.
            case missingFile = "missing-file"
            /// The file's SHA-256 is not the one the catalog recorded.
            case catalogMismatch = "catalog-mismatch"
        }

        public var kind: Kind
        public var detail: String
    }

    public var file: String
    public var inCatalog: Bool
    public var createdAt: Date?
    public var revision: Int64?
    public var keys: Int64?
    public var sizeBytes: Int64?
    public var kvHash: UInt32?
    /// The checks that passed, with what each found.
    public var checks: [String] = []
    public var problems: [Problem] = []
    /// A catalog entry whose file is gone, dropped from the catalog (`--forget-missing`).
    public var forgotten = false

    public var ok: Bool { problems.isEmpty }
    public var problemText: String { problems.map(\.detail).joined(separator: "; ") }
}

/// The last audit, as the catalog keeps it.
public struct AuditRecord: Codable, Sendable, Equatable {
    public var at: Date
    public var deep: Bool
    public var snapshots: Int
    public var failing: [String]
    public var newestGoodFile: String?
    public var newestGoodCreatedAt: Date?
    public var staleness: String?

    public init(_ report: AuditReport) {
        at = report.finishedAt
        deep = report.deep
        snapshots = report.rows.count
        failing = report.failing.map { "\($0.file): \($0.problemText)" }
        newestGoodFile = report.newestGood?.file
        newestGoodCreatedAt = report.newestGood?.createdAt
        staleness = report.staleness
    }
}

/// A restore drill, as the catalog keeps it: which snapshot, whether a throw-away server
/// restored from it served the manifest's data, and how long it took.
public struct DrillRecord: Codable, Sendable, Equatable {
    public var at: Date
    public var file: String
    public var ok: Bool
    public var revision: Int64
    public var durationSeconds: Double
    public var databaseBytes: Int64
    /// Database bytes restored per second (restore alone, not the server's start).
    public var restoreBytesPerSecond: Double
    public var keysSampled: Int
    /// What passed, or what failed and why.
    public var detail: String

    public init(at: Date, file: String, ok: Bool, revision: Int64, durationSeconds: Double, databaseBytes: Int64,
        restoreBytesPerSecond: Double, keysSampled: Int, detail: String)
    {
        self.at = at
        self.file = file
        self.ok = ok
        self.revision = revision
        self.durationSeconds = durationSeconds
        self.databaseBytes = databaseBytes
        self.restoreBytesPerSecond = restoreBytesPerSecond
        self.keysSampled = keysSampled
        self.detail = detail
    }
}
