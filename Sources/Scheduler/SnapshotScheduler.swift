import Foundation
import Logging

/// Runs a ``SnapshotJob`` on a schedule until cancelled: at each cron fire time (or interval),
/// plus random jitter, retrying a failed run with backoff. A machine that slept through
/// several fire times runs once when it wakes, not once per missed time.
public struct SnapshotScheduler: Sendable {
    public enum Timing: Sendable, CustomStringConvertible {
        case cron(CronExpression, TimeZone)
        /// A fixed period (`--interval`), mainly for tests and short-lived setups.
        case interval(Duration)

        /// The first fire time strictly after `date`.
        func next(after date: Date) -> Date? {
            switch self {
            case .cron(let expression, let timeZone): expression.nextFire(after: date, in: timeZone)
            case .interval(let period): date.addingTimeInterval(period.seconds)
            }
        }

        public var description: String {
            switch self {
            case .cron(let expression, let timeZone): "cron \"\(expression)\" in \(timeZone.identifier)"
            case .interval(let period): "every \(period)"
            }
        }
    }

    public var job: SnapshotJob
    public var timing: Timing
    /// Each run starts up to this much after its fire time (spreads many members' backups).
    public var jitter: Duration
    /// Take a snapshot as soon as the scheduler starts, then follow the schedule.
    public var runAtStart: Bool
    /// The pauses before the retries of a failed run; their count is the number of retries.
    public var retryDelays: [Duration]
    public var sleep: @Sendable (Duration) async throws -> Void
    public var random: @Sendable (Duration) -> Duration
    /// Other work on schedules of its own in the same directory, such as audits and restore
    /// drills: run one at a time with the snapshots, never at once with one.
    public var companions: [Companion] = []

    /// Work the scheduler runs at its own times, between snapshots.
    public struct Companion: Sendable {
        public var name: String
        public var timing: Timing
        public var run: @Sendable () async -> Void

        public init(name: String, timing: Timing, run: @escaping @Sendable () async -> Void) {
            self.name = name
            self.timing = timing
            self.run = run
        }
    }

    public init(job: SnapshotJob, timing: Timing, jitter: Duration = .zero, runAtStart: Bool = false,
        retryDelays: [Duration] = [.seconds(5), .seconds(30), .seconds(120)],
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable (Duration) -> Duration = SnapshotScheduler.randomDelay(upTo:))
    {
        self.job = job
        self.timing = timing
        self.jitter = jitter
        self.runAtStart = runAtStart
        self.retryDelays = retryDelays
        self.sleep = sleep
        self.random = random
    }

    /// A uniformly random delay in `0..<bound` (millisecond steps).
    public static func randomDelay(upTo bound: Duration) -> Duration {
        bound <= .zero ? .zero : .milliseconds(Int64.random(in: 0..<max(1, bound.milliseconds)))
    }

    /// Runs until the task is cancelled (a cancellation ends the current sleep, not a write).
    /// Snapshots and companions take turns: whichever is due first runs, the others wait.
    public func run() async throws {
        job.logger.info("snapshot schedule started", metadata: [
            "dir": "\(job.directory)", "schedule": "\(timing)", "retention": "\(job.policy)",
            "also": "\(companions.map { "\($0.name) \($0.timing)" })",
        ])
        let timings = [timing] + companions.map(\.timing)
        var reference = job.now()
        if runAtStart {
            await attempt()
            reference = job.now()
        }
        var due = try timings.map { try Self.next($0, after: reference) }
        while !Task.isCancelled {
            let index = due.indices.min { due[$0] < due[$1] }!
            let wait = due[index].timeIntervalSince(job.now())
            if wait > 0 {
                try await sleep(.milliseconds(Int64(wait * 1000)) + random(jitter))
            }
            if index == 0 { await attempt() } else { await companions[index - 1].run() }
            // Fire times that passed while this run (or a sleeping machine) took its time are
            // not made up one by one.
            due[index] = try Self.next(timings[index], after: max(due[index], job.now()))
        }
    }

    private static func next(_ timing: Timing, after date: Date) throws -> Date {
        guard let next = timing.next(after: date) else {
            throw SchedulerError(.invalidOptions, "the schedule \(timing) never fires again")
        }
        return next
    }

    /// One scheduled run with its retries; failures are logged and counted in the metrics.
    func attempt() async {
        for (index, delay) in ([Duration.zero] + retryDelays).enumerated() {
            if delay > .zero {
                guard (try? await sleep(delay)) != nil else { return }
            }
            do {
                try await job.run()
                return
            } catch {
                let last = index == retryDelays.count
                job.logger.error(last ? "snapshot failed; giving up until the next scheduled time" : "snapshot failed; retrying",
                    metadata: ["error": "\(error)", "attempt": "\(index + 1)", "dir": "\(job.directory)"])
            }
        }
    }
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
