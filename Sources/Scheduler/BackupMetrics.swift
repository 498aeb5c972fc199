import Foundation

/// `DIR/cairn_backup.prom`: the scheduler's state in the Prometheus text format, for
/// node-exporter's textfile collector, so "no successful backup for 2 hours" can page someone.
public struct BackupMetrics: Codable, Sendable, Equatable {
    public static let fileName = "cairn_backup.prom"

    public var lastSuccessTimestampSeconds: Double?
    public var lastAttemptTimestampSeconds: Double?
    public var lastDurationSeconds: Double?
    public var lastSizeBytes: Int64?
    public var consecutiveFailures: Int = 0
    public var snapshotCount: Int = 0
    /// Written by `cairn snapshot audit` (and scheduled audits).
    public var lastAuditTimestampSeconds: Double?
    public var auditFailingSnapshots: Int?
    public var newestVerifiedSnapshotTimestampSeconds: Double?
    public var newestVerifiedSnapshotAgeSeconds: Double?
    public var lastDrillTimestampSeconds: Double?
    public var lastDrillSuccess: Bool?
    public var lastSuccessfulDrillTimestampSeconds: Double?

    public init() {}

    /// The metrics as last written in `directory` (parsed back from the file), or empty.
    public static func load(from directory: String) -> BackupMetrics {
        var metrics = BackupMetrics()
        guard let text = try? String(contentsOfFile: directory + "/" + fileName, encoding: .utf8) else { return metrics }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            switch parts[0] {
            case "cairn_backup_last_success_timestamp_seconds": metrics.lastSuccessTimestampSeconds = value
            case "cairn_backup_last_attempt_timestamp_seconds": metrics.lastAttemptTimestampSeconds = value
            case "cairn_backup_last_duration_seconds": metrics.lastDurationSeconds = value
            case "cairn_backup_last_size_bytes": metrics.lastSizeBytes = Int64(value)
            case "cairn_backup_consecutive_failures": metrics.consecutiveFailures = Int(value)
            case "cairn_backup_snapshots": metrics.snapshotCount = Int(value)
            case "cairn_backup_last_audit_timestamp_seconds": metrics.lastAuditTimestampSeconds = value
            case "cairn_backup_audit_failing_snapshots": metrics.auditFailingSnapshots = Int(value)
            case "cairn_backup_newest_verified_snapshot_timestamp_seconds": metrics.newestVerifiedSnapshotTimestampSeconds = value
            case "cairn_backup_newest_verified_snapshot_age_seconds": metrics.newestVerifiedSnapshotAgeSeconds = value
            case "cairn_backup_last_drill_timestamp_seconds": metrics.lastDrillTimestampSeconds = value
            case "cairn_backup_last_drill_success": metrics.lastDrillSuccess = value == 1
            case "cairn_backup_last_successful_drill_timestamp_seconds": metrics.lastSuccessfulDrillTimestampSeconds = value
            default: continue
            }
        }
        return metrics
    }

    public var text: String {
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: String?) {
            guard let value else { return }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) gauge", "\(name) \(value)"]
        }
        gauge("cairn_backup_last_success_timestamp_seconds", "Unix time of the last snapshot written and verified.",
            lastSuccessTimestampSeconds.map { String(format: "%.3f", $0) })
        gauge("cairn_backup_last_attempt_timestamp_seconds", "Unix time of the last snapshot attempt, successful or not.",
            lastAttemptTimestampSeconds.map { String(format: "%.3f", $0) })
        gauge("cairn_backup_last_duration_seconds", "Seconds the last successful snapshot took (save and verify).",
            lastDurationSeconds.map { String(format: "%.3f", $0) })
        gauge("cairn_backup_last_size_bytes", "Size of the last successful snapshot archive.", lastSizeBytes.map(String.init))
        gauge("cairn_backup_consecutive_failures", "Snapshot attempts that failed since the last success.", "\(consecutiveFailures)")
        gauge("cairn_backup_snapshots", "Snapshots in the catalog after the last prune.", "\(snapshotCount)")
        let seconds = { (value: Double?) in value.map { String(format: "%.3f", $0) } }
        gauge("cairn_backup_last_audit_timestamp_seconds", "Unix time of the last snapshot audit.", seconds(lastAuditTimestampSeconds))
        gauge("cairn_backup_audit_failing_snapshots", "Snapshots the last audit found failing (bad, missing, or not catalogued).",
            auditFailingSnapshots.map(String.init))
        gauge("cairn_backup_newest_verified_snapshot_timestamp_seconds",
            "Creation time of the newest snapshot the last audit verified; alert on time() minus this.",
            seconds(newestVerifiedSnapshotTimestampSeconds))
        gauge("cairn_backup_newest_verified_snapshot_age_seconds", "Age of the newest verified snapshot when the last audit ran.",
            seconds(newestVerifiedSnapshotAgeSeconds))
        gauge("cairn_backup_last_drill_timestamp_seconds", "Unix time of the last restore drill.", seconds(lastDrillTimestampSeconds))
        gauge("cairn_backup_last_drill_success", "1 if the last restore drill passed, 0 if it failed.",
            lastDrillSuccess.map { $0 ? "1" : "0" })
        gauge("cairn_backup_last_successful_drill_timestamp_seconds",
            "Unix time of the last restore drill that passed; alert on time() minus this.", seconds(lastSuccessfulDrillTimestampSeconds))
        return lines.joined(separator: "\n") + "\n"
    }

    public func save(to directory: String) throws {
        try AtomicFile.write(Data(text.utf8), to: directory + "/" + Self.fileName)
    }
}
