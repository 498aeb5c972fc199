import ArgumentParser
import Backup
import Foundation
import Logging
import Scheduler
import Server
import Storage

/// `cairn server`: the daemon, configured with etcd's flag names, environment variables and
/// config file, so etcd's systemd units work with the binary name changed.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a cairn member (etcd v3 API on the client URLs).",
        discussion: ServerHelp.text
    )

    @Argument(parsing: .captureForPassthrough, help: "etcd-style settings, e.g. --name=infra1 --data-dir=/var/lib/cairn")
    var settings: [String] = []

    func run() async throws {
        // Every argument is passed through to the resolver, so help is answered here.
        if settings.contains(where: { $0 == "--help" || $0 == "-h" || $0 == "-help" }) {
            print(Self.helpMessage())
            return
        }
        let resolution: ConfigurationResolver.Resolution
        do {
            resolution = try ConfigurationResolver.resolve(
                arguments: settings, environment: ProcessInfo.processInfo.environment
            ) { path in try String(contentsOfFile: path, encoding: .utf8) }
        } catch {
            throw ValidationError("\(error)")
        }
        var resolved = resolution.configuration
        let failpoints: Set<Failpoint>
        do {
            failpoints = try Failpoint.fromEnvironment()
            if let address = ProcessInfo.processInfo.environment[Failpoint.httpEnvironmentVariable], !address.isEmpty {
                let url = try URLSpec(parsing: address.contains("://") ? address : "http://" + address,
                    setting: Failpoint.httpEnvironmentVariable)
                guard url.scheme == "http" else {
                    throw ConfigurationError("\(Failpoint.httpEnvironmentVariable): \(address): the failpoint switch serves plain http")
                }
                // Whoever reaches the switch can crash the member: it never leaves the machine.
                guard url.host == "localhost" || url.host == "::1" || url.host.hasPrefix("127.") else {
                    throw ConfigurationError("\(Failpoint.httpEnvironmentVariable): \(address): the failpoint switch binds only a loopback address (127.0.0.1, ::1 or localhost)")
                }
                resolved.failpointsHTTP = url
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let configuration = resolved
        let level: Logger.Level =
            switch configuration.logLevel {
            case "debug": .debug
            case "warn": .warning
            case "error": .error
            default: .info
            }
        LoggingSystem.bootstrap { EtcdLogHandler(label: $0, level: level, format: EtcdLogHandler.Format(rawValue: configuration.logFormat) ?? .json) }
        let logger = Logger(label: "cairn")
        for note in resolution.notes { logger.warning("\(note)") }
        if !failpoints.isEmpty || configuration.failpointsHTTP != nil {
            logger.warning("failpoints are active: this member is deliberately broken, for testing only",
                metadata: ["failpoints": "\(failpoints.map(\.rawValue).sorted())",
                    "switch": "\(configuration.failpointsHTTP.map(String.init(describing:)) ?? "none")"])
        }
        logger.info("starting cairn", metadata: [
            "name": "\(configuration.name)", "data-dir": "\(configuration.resolvedDataDir)",
            "version": "\(Cairn.version)",
        ])
        do {
            guard let schedule = try SnapshotsInProcess(configuration: configuration, logger: logger) else {
                try await ServerRunner.run(configuration: configuration, logger: logger)
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await ServerRunner.run(configuration: configuration, logger: logger, localSnapshots: schedule.source)
                }
                group.addTask { try await schedule.run() }
                // The server returns when it stops; the scheduler only when cancelled.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.critical("cairn server failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

/// `--snapshot-schedule`: the scheduler of `cairn schedule run` inside the server process,
/// snapshotting this member's store directly (``LocalSnapshots``) once it serves: neither auth
/// nor TLS on the client URLs stands in its way.
struct SnapshotsInProcess: Sendable {
    let scheduler: SnapshotScheduler
    let source = LocalSnapshots()
    let lock: DirectoryLock

    init?(configuration: ServerConfiguration, logger: Logger) throws {
        let settings = configuration.snapshots
        guard let schedule = settings.schedule, let directory = settings.directory else { return nil }
        let expression: CronExpression
        do {
            expression = try CronExpression(parsing: schedule)
        } catch {
            throw ValidationError("--snapshot-schedule: \(error)")
        }
        let timeZone = TimeZone(identifier: settings.timeZone) ?? TimeZone(identifier: "UTC")!
        let key = try settings.encryptKeyFile.map { path in
            do {
                return try EncryptionKey.load(path: path)
            } catch {
                throw ValidationError("--snapshot-encrypt-key-file: \(error)")
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        lock = try DirectoryLock(directory: directory)
        let source = source
        let job = SnapshotJob(directory: directory,
            policy: RetentionPolicy(retainLast: settings.retainLast, hourly: settings.retainHourly,
                daily: settings.retainDaily, weekly: settings.retainWeekly, monthly: settings.retainMonthly),
            timeZone: timeZone,
            save: { path in
                _ = try await source.save(to: path, level: 3, toolVersion: Cairn.version, encryptionKey: key)
            },
            logger: logger, encryptionKey: key)
        scheduler = SnapshotScheduler(job: job, timing: .cron(expression, timeZone), jitter: settings.jitter,
            runAtStart: settings.onStart)
    }

    /// Waits until the member serves (a leader, a linearizable read), then follows the schedule.
    func run() async throws {
        try await source.waitUntilServing()
        try await scheduler.run()
        withExtendedLifetime(lock) {}
    }
}
