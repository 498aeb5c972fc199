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
        return lines.joined(separator: "\n") + "\n"
    }

    public func save(to directory: String) throws {
        try AtomicFile.write(Data(text.utf8), to: directory + "/" + Self.fileName)
    }
}
