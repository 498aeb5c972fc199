import ArgumentParser
import Backup
import Foundation
import Logging
import Scheduler
import Server

/// `cairn schedule …`: scheduled snapshots into a backup directory, with retention.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Take snapshots on a schedule into a backup directory, verify them, and prune by a retention policy.",
        subcommands: [Run.self, Once.self, Prune.self]
    )

    /// Where snapshots go and which ones to keep: shared by every subcommand.
    struct Policy: ParsableArguments {
        @Option(help: "The backup directory (created if missing): snapshots, index.json, cairn_backup.prom.") var dir: String
        @Option(help: "Keep the newest N snapshots.") var retainLast: Int?
        @Option(help: "Keep the newest verified snapshot of each of the last N hours.") var retainHourly: Int?
        @Option(help: "… of each of the last N days.") var retainDaily: Int?
        @Option(help: "… of each of the last N ISO weeks.") var retainWeekly: Int?
        @Option(help: "… of each of the last N months.") var retainMonthly: Int?
        @Option(help: "The time zone of cron times and retention days (an IANA name such as Europe/Berlin).")
        var timeZone = "UTC"
        @OptionGroup var encryption: SnapshotCommand.EncryptionOption

        func validate() throws {
            for (flag, value) in [("--retain-last", retainLast), ("--retain-hourly", retainHourly), ("--retain-daily", retainDaily),
                ("--retain-weekly", retainWeekly), ("--retain-monthly", retainMonthly)]
            {
                if let value, value < 1 { throw ValidationError("\(flag) must be at least 1, not \(value)") }
            }
            if TimeZone(identifier: timeZone) == nil {
                throw ValidationError("--time-zone: \"\(timeZone)\" is not a time zone this machine knows (try UTC or Europe/Berlin)")
            }
        }

        var retention: RetentionPolicy {
            RetentionPolicy(retainLast: retainLast, hourly: retainHourly, daily: retainDaily, weekly: retainWeekly,
                monthly: retainMonthly)
        }

        var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")! }

        /// Creates the directory if needed and takes its lock.
        func lockedDirectory() throws -> DirectoryLock {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw SchedulerError(.io, "cannot create the backup directory \(dir): \(error.localizedDescription)")
            }
            return try DirectoryLock(directory: dir)
        }

        /// Refuses a bad `--encrypt-key-file` before anything is scheduled.
        func job(endpoint: String, access: ClientAccess = ClientAccess(), logger: Logger) throws -> SnapshotJob {
            let key = try encryption.key()
            return SnapshotJob(directory: dir, policy: retention, timeZone: zone, save: { path in
                _ = try await OnlineSnapshot.save(endpoint: endpoint, access: access, to: path, force: false, level: 3, toolVersion: Cairn.version,
                    encryptionKey: key)
            }, logger: logger, encryptionKey: key)
        }
    }

    static func logger() -> Logger {
        var logger = Logger(label: "cairn-schedule") { EtcdLogHandler(label: $0, level: .info) }
        logger.logLevel = .info
        return logger
    }


    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the scheduler until SIGTERM: snapshot, verify, catalog and prune at each scheduled time.",
            discussion: """
                --cron takes five fields (minute hour day-of-month month day-of-week) with ranges, \
                lists, steps and names, or @hourly, @daily, @weekly, @monthly, @yearly. A machine \
                that slept through scheduled times takes one snapshot when it wakes. Two schedulers \
                never share a directory: the second refuses to start.
                """)

        @Option(help: "One server's client URL.") var endpoints: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var policy: Policy
        @Option(help: "When to take snapshots: a cron expression such as \"0 */6 * * *\" or @hourly.") var cron: String?
        @Option(help: "Instead of --cron: a fixed period such as 30m or 10s.") var interval: String?
        @Option(help: "Start each run up to this long after its time, at random (e.g. 5m).") var jitter = "0s"
        @Flag(help: "Take a snapshot at once, then follow the schedule.") var snapshotOnStart = false
        @Option(help: "Also audit every snapshot in --dir at these times (a cron expression), as `cairn snapshot audit` does.")
        var auditCron: String?
        @Option(help: "Also run a restore drill at these times (a cron expression): an audit, then the newest good snapshot restored into a throw-away server.")
        var drillCron: String?
        @Flag(help: "Scheduled audits recompute each snapshot's KV hash, key count and revision range.") var auditDeep = false
        @Option(help: "Scheduled audits fail when the newest good snapshot is older than this (e.g. 26h).") var maxAge: String?

        func validate() throws {
            _ = try ScheduleCommand.timing(cron: cron, interval: interval, timeZone: policy.zone)
            guard GoDuration.parse(jitter) != nil else { throw ValidationError("--jitter: \"\(jitter)\" is not a duration such as 30s or 5m") }
            for (flag, expression) in [("--audit-cron", auditCron), ("--drill-cron", drillCron)] {
                guard let expression else { continue }
                do {
                    _ = try CronExpression(parsing: expression)
                } catch {
                    throw ValidationError("\(flag): \(error)")
                }
            }
            if let maxAge, GoDuration.parse(maxAge) == nil {
                throw ValidationError("--max-age: \"\(maxAge)\" is not a duration such as 26h or 90m")
            }
        }

        /// The audits and drills to run between snapshots, under the lock the scheduler holds.
        func companions(logger: Logger) throws -> [SnapshotScheduler.Companion] {
            let audit = SnapshotAudit(directory: policy.dir, deep: auditDeep, encryptionKey: try policy.encryption.key(),
                maxAge: maxAge.flatMap(GoDuration.parse))
            var companions: [SnapshotScheduler.Companion] = []
            for (name, expression, drill) in [("audit", auditCron, false), ("drill", drillCron, true)] {
                guard let expression else { continue }
                let timing = SnapshotScheduler.Timing.cron(try CronExpression(parsing: expression), policy.zone)
                companions.append(SnapshotScheduler.Companion(name: name, timing: timing) {
                    do {
                        let outcome = try await AuditOutcome.run(audit, drill: drill, snapshot: nil, lock: .held)
                        outcome.log(to: logger)
                    } catch {
                        logger.error("scheduled \(name) failed", metadata: ["dir": "\(audit.directory)", "error": "\(error)"])
                    }
                })
            }
            return companions
        }

        func run() async throws {
            do {
                let lock = try policy.lockedDirectory()
                let logger = ScheduleCommand.logger()
                var scheduler = SnapshotScheduler(job: try policy.job(endpoint: endpoints, access: client.access, logger: logger),
                    timing: try ScheduleCommand.timing(cron: cron, interval: interval, timeZone: policy.zone),
                    jitter: GoDuration.parse(jitter) ?? .zero, runAtStart: snapshotOnStart)
                scheduler.companions = try companions(logger: logger)
                try await ScheduleCommand.runUntilSignalled(scheduler)
                withExtendedLifetime(lock) {}
            } catch {
                throw CommandFailure.exit(error)
            }
        }
    }

    struct Once: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take one snapshot, verify it, catalog it and prune (for system cron and systemd timers).",
            discussion: "Exits 0 only when the snapshot was written and verified.")

        @Option(help: "One server's client URL.") var endpoints: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var policy: Policy

        func run() async throws {
            do {
                let lock = try policy.lockedDirectory()
                let entry = try await policy.job(endpoint: endpoints, access: client.access, logger: ScheduleCommand.logger()).run()
                print("Snapshot \(policy.dir)/\(entry.file): revision \(entry.manifest.revision), \(entry.sizeBytes) bytes, verified")
                withExtendedLifetime(lock) {}
            } catch {
                throw CommandFailure.exit(error)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the retention policy to a backup directory's catalogued snapshots.",
            discussion: """
                Only snapshots in DIR/index.json are considered; the newest verified one is always \
                kept. --dry-run prints what would be deleted and why, and deletes nothing.
                """)

        @OptionGroup var policy: Policy
        @Flag(help: "Explain every decision without deleting anything.") var dryRun = false

        func run() async throws {
            do {
                let lock = try policy.lockedDirectory()
                let job = try policy.job(endpoint: "", logger: ScheduleCommand.logger())
                let (plan, _) = try job.prune(dryRun: dryRun)
                for decision in plan.keep {
                    print("keep    \(decision.record.name)  (\(decision.reasons.joined(separator: "; ")))")
                }
                for decision in plan.delete {
                    print("\(dryRun ? "would delete" : "deleted")  \(decision.record.name)  (\(decision.reasons.joined(separator: "; ")))")
                }
                print("\(plan.keep.count) kept, \(plan.delete.count) \(dryRun ? "to delete" : "deleted") (policy: \(policy.retention))")
                withExtendedLifetime(lock) {}
            } catch {
                throw CommandFailure.exit(error)
            }
        }
    }

    static func timing(cron: String?, interval: String?, timeZone: TimeZone) throws -> SnapshotScheduler.Timing {
        switch (cron, interval) {
        case (let cron?, nil):
            do {
                return .cron(try CronExpression(parsing: cron), timeZone)
            } catch {
                throw ValidationError("--cron: \(error)")
            }
        case (nil, let interval?):
            guard let period = GoDuration.parse(interval), period >= .seconds(1) else {
                throw ValidationError("--interval: \"\(interval)\" is not a duration of at least 1s (e.g. 30m)")
            }
            return .interval(period)
        default:
            throw ValidationError("give exactly one of --cron and --interval")
        }
    }

    /// Runs `scheduler` until SIGTERM or SIGINT, then lets a snapshot in progress finish.
    static func runUntilSignalled(_ scheduler: SnapshotScheduler) async throws {
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            group.addTask { _ = await signals.next() }
            try await group.next()
            group.cancelAll()
        }
    }
}
