import Storage
import Foundation

/// Runs the disaster-recovery runbook for one member: `cairn runbook restore` and
/// `cairn runbook rollback`.
///
/// Every step is journaled `running` in `<plan>.state.json` before it acts and `done` after, and is
/// safe to perform again, so a run killed at any point continues with `resume: true`. The old
/// data-dir is never deleted: it is renamed aside, or left where it is and no longer pointed at.
public struct RestoreRunbook: Sendable {
    public let plan: RunbookPlan
    public let planPath: String
    let planBytes: Data
    let environment: any RunbookEnvironment
    let probeInterval: Duration
    let output: @Sendable (String) -> Void

    /// - Parameters:
    ///   - planBytes: the plan file's bytes, hashed to notice a plan edited between a run and its resume.
    ///   - probeInterval: the pause between probes while waiting for the server to go down or come up.
    ///   - output: receives one line per check, action and outcome, for the operator.
    public init(
        plan: RunbookPlan, planPath: String, planBytes: Data, environment: any RunbookEnvironment,
        probeInterval: Duration = .seconds(1), output: @escaping @Sendable (String) -> Void
    ) {
        self.plan = plan
        self.planPath = planPath
        self.planBytes = planBytes
        self.environment = environment
        self.probeInterval = probeInterval
        self.output = output
    }

    /// Reads and parses the plan at `planPath` (absolute).
    public static func load(
        planPath: String, environment: any RunbookEnvironment, probeInterval: Duration = .seconds(1),
        output: @escaping @Sendable (String) -> Void
    ) throws -> RestoreRunbook {
        guard let path = PathText.normalized(planPath) else {
            throw RunbookError(.planInvalid, "the plan path \(planPath) must be absolute")
        }
        guard let bytes = try FileSystem.read(path) else {
            throw RunbookError(.planInvalid, "the plan \(path) does not exist")
        }
        let plan = try RunbookPlan.parse(yaml: String(decoding: bytes, as: UTF8.self), path: path)
        return RestoreRunbook(
            plan: plan, planPath: path, planBytes: bytes, environment: environment,
            probeInterval: probeInterval, output: output)
    }

    /// The journal: next to the plan, so the plan names its run.
    public var journalPath: String { planPath + ".state.json" }

    /// What an operator types to undo a run.
    public var rollbackCommand: String { "cairn runbook rollback --plan \(ShellQuote.quote(planPath))" }

    func resumeCommand(snapshot: String) -> String {
        "cairn runbook restore --snapshot \(ShellQuote.quote(snapshot)) --plan \(ShellQuote.quote(planPath)) --resume"
    }

    var store: JournalStore { JournalStore(path: journalPath) }

    func effects(dryRun: Bool) -> RunbookEffects {
        RunbookEffects(dryRun: dryRun, environment: environment, store: store, output: output)
    }

    /// Restores `snapshot` into a new data-dir and switches the member to it.
    ///
    /// - Parameters:
    ///   - dryRun: run the read-only preflight and print every action without writing anything,
    ///     not even the journal.
    ///   - resume: continue the run the journal records, from its first unfinished step.
    /// - Returns: the journal as it stands at the end.
    /// - Throws: `RunbookError`; on a step failure the journal marks the step `failed`.
    public func restore(snapshot: String, dryRun: Bool = false, resume: Bool = false) async throws -> RunbookJournal {
        guard let snapshot = PathText.normalized(snapshot) else {
            throw RunbookError(.planInvalid, "the snapshot path \(snapshot) must be absolute")
        }
        let fx = effects(dryRun: dryRun)
        var journal = try await begin(snapshot: snapshot, resume: resume, fx: fx)
        for step in RunbookStep.allCases where step != .preflight {
            try await perform(step, snapshot: snapshot, journal: &journal, fx: fx.labeled(step.rawValue))
        }
        let revision = journal.expectedRevision.map { "revision ≥ \($0)" } ?? "the restored revision"
        fx.say(dryRun
            ? "dry run complete: nothing was changed"
            : "restore complete: \(plan.endpoint) serves \(revision) from \(journal.newDataDir); the old data is kept (see \(journalPath))")
        return journal
    }

    /// The journal to run with: a resumed one after its checks, or a new one once preflight passes.
    private func begin(snapshot: String, resume: Bool, fx: RunbookEffects) async throws -> RunbookJournal {
        let existing = try store.load()
        let planSHA256 = environment.sha256(planBytes)
        if resume {
            guard let existing else {
                throw RunbookError(.journalMissing, "--resume: there is no journal \(journalPath), so no run to resume; run without --resume")
            }
            try checkResumable(existing, planSHA256: planSHA256, snapshot: snapshot)
            fx.say("resuming run \(existing.runID) at step \(existing.stoppedAt?.rawValue ?? "-"); new data-dir \(existing.newDataDir)")
            return existing
        }
        if let existing { throw refusal(existing) }
        let startedAt = environment.now()
        let runID = Self.runID(startedAt)
        let newDataDir = PathText.join(plan.restoreParent, "\(PathText.base(of: plan.dataDir)).restored-\(runID)")
        fx.say("run \(runID): restore \(snapshot) with plan \(planPath)\(fx.dryRun ? " (dry run: nothing will be changed)" : "")")
        fx.say("new data-dir: \(newDataDir)")
        let facts = try await preflight(snapshot: snapshot, newDataDir: newDataDir, runID: runID, fx: fx.labeled(RunbookStep.preflight.rawValue))
        var journal = RunbookJournal(
            runID: runID, startedAt: startedAt, planPath: planPath, planSHA256: planSHA256, snapshotPath: snapshot,
            snapshot: facts, dataDir: plan.dataDir, newDataDir: newDataDir)
        journal.mark(.preflight, .done, at: startedAt, detail: "snapshot revision \(facts.revision), \(facts.databaseBytes) bytes")
        if fx.act("write the journal \(journalPath)") {
            try fx.save(journal)
        }
        return journal
    }

    private func checkResumable(_ journal: RunbookJournal, planSHA256: String, snapshot: String) throws {
        if journal.rollback != nil || journal.isComplete { throw refusal(journal) }
        guard journal.planSHA256 == planSHA256 else {
            throw RunbookError(.journalMismatch, "--resume: the plan \(planPath) changed since run \(journal.runID) started (sha256 \(journal.planSHA256), now \(planSHA256)); put the original plan back, or undo with '\(rollbackCommand)'")
        }
        guard journal.snapshotPath == snapshot else {
            throw RunbookError(.journalMismatch, "--resume: run \(journal.runID) restores \(journal.snapshotPath), not \(snapshot); resume with --snapshot \(journal.snapshotPath)")
        }
    }

    /// Why a journal that exists stops a new run.
    private func refusal(_ journal: RunbookJournal) -> RunbookError {
        if journal.rollback != nil {
            return RunbookError(.runComplete, "run \(journal.runID) was rolled back (journal \(journalPath)); move the journal away to run again")
        }
        guard let step = journal.stoppedAt else {
            return RunbookError(.runComplete, "run \(journal.runID) is complete (journal \(journalPath)); move the journal away to run again")
        }
        return RunbookError(.runUnfinished, "run \(journal.runID) stopped at step \(step.rawValue) (\(journal.status(step).rawValue)); continue it with '\(resumeCommand(snapshot: journal.snapshotPath))' or undo it with '\(rollbackCommand)'")
    }

    /// Performs one step unless the journal says it is settled; a failure tells how to go on.
    private func perform(_ step: RunbookStep, snapshot: String, journal: inout RunbookJournal, fx: RunbookEffects) async throws {
        let skipReason = step.isAPIServerStep && plan.apiServer == nil ? "the plan has no apiServer" : nil
        try await journaled(step, skipReason: skipReason, journal: &journal, fx: fx, failure: { reason in
            fx.say("the run stopped at step \(step.rawValue); the journal \(journalPath) marks it failed")
            fx.say("undo what was done: \(rollbackCommand)")
            fx.say("or fix the cause and continue: \(resumeCommand(snapshot: snapshot))")
            return RunbookError(.stepFailed, "step \(step.rawValue) failed: \(reason). Undo with '\(rollbackCommand)', or fix the cause and continue with '\(resumeCommand(snapshot: snapshot))'")
        }) { journal in
            try await act(step, snapshot: snapshot, journal: &journal, fx: fx)
        }
    }

    private func act(_ step: RunbookStep, snapshot: String, journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        switch step {
        case .preflight:
            preconditionFailure("preflight runs before the journal exists")
        case .stopAPIServer:
            guard let apiServer = plan.apiServer else { preconditionFailure("apiServer steps are skipped without one") }
            return try await stop(apiServer, timeout: Self.apiServerTimeout, journal: &journal, fx: fx)
        case .stopServer:
            return try await stopServer(journal: &journal, fx: fx)
        case .restore:
            return try await restoreStep(snapshot: snapshot, journal: &journal, fx: fx)
        case .repoint:
            return try await repoint(journal: &journal, fx: fx)
        case .startServer:
            guard fx.dryRun || journal.expectedRevision != nil else {
                throw RunbookError(.journalMismatch, "the journal \(journalPath) records no restored revision to wait for; it was edited by hand")
            }
            return try await startServer(.restored(journal.expectedRevision), fx: fx)
        case .startAPIServer:
            guard let apiServer = plan.apiServer else { preconditionFailure("apiServer steps are skipped without one") }
            return try await start(apiServer, timeout: Self.apiServerTimeout, fx: fx)
        }
    }

    /// How long an API server stop or start command may run.
    static let apiServerTimeout: Duration = .seconds(120)

    /// The run's UTC timestamp, `yyyyMMdd-HHmmss`.
    static func runID(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(String(format: "%04d", parts.year ?? 0))\(two(parts.month))\(two(parts.day))-\(two(parts.hour))\(two(parts.minute))\(two(parts.second))"
    }
}

extension RunbookStep {
    var isAPIServerStep: Bool { self == .stopAPIServer || self == .startAPIServer }
}
