import Foundation

/// A step the journal tracks: the restore's and the rollback's.
protocol JournaledStep: Sendable {
    var rawValue: String { get }
    func status(in journal: RunbookJournal) -> StepStatus
    func mark(_ status: StepStatus, in journal: inout RunbookJournal, at time: Date, detail: String?)
}

extension RunbookStep: JournaledStep {
    func status(in journal: RunbookJournal) -> StepStatus { journal.status(self) }

    func mark(_ status: StepStatus, in journal: inout RunbookJournal, at time: Date, detail: String?) {
        journal.mark(self, status, at: time, detail: detail)
    }
}

extension RollbackStep: JournaledStep {
    func status(in journal: RunbookJournal) -> StepStatus { journal.status(self) }

    func mark(_ status: StepStatus, in journal: inout RunbookJournal, at time: Date, detail: String?) {
        journal.mark(self, status, at: time, detail: detail)
    }
}

extension RestoreRunbook {
    /// Runs `action` as `step`: nothing if the journal says it is settled, `skipped` when there is
    /// a `skipReason`, else journaled `running` before acting and `done` or `failed` after.
    func journaled<Step: JournaledStep>(
        _ step: Step, skipReason: String?, journal: inout RunbookJournal, fx: RunbookEffects,
        failure: (String) -> RunbookError,
        action: (inout RunbookJournal) async throws -> String
    ) async throws {
        let status = step.status(in: journal)
        guard !status.isSettled else {
            fx.say("already \(status.rawValue)")
            return
        }
        if let skipReason {
            step.mark(.skipped, in: &journal, at: environment.now(), detail: skipReason)
            try fx.save(journal)
            fx.say("skipped: \(skipReason)")
            return
        }
        step.mark(.running, in: &journal, at: environment.now(), detail: nil)
        try fx.save(journal)
        do {
            let detail = try await action(&journal)
            step.mark(.done, in: &journal, at: environment.now(), detail: detail)
            try fx.save(journal)
            if !fx.dryRun { fx.say("done: \(detail)") }
        } catch {
            let reason = RunbookError.describing(error)
            step.mark(.failed, in: &journal, at: environment.now(), detail: reason)
            // The failure is what the operator must see; a journal that cannot be written is
            // reported beside it rather than in its place.
            do { try fx.save(journal) } catch { fx.say("cannot journal the failure: \(RunbookError.describing(error))") }
            fx.say("FAILED: \(reason)")
            throw failure(reason)
        }
    }
}
