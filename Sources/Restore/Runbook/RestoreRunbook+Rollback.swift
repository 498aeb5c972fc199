import Foundation

/// `cairn runbook rollback`: undoes, in reverse, what the journal says the restore did. The
/// restored data-dir is kept. Each rollback step is journaled like a restore step, so a failed or
/// killed rollback is simply run again.
extension RestoreRunbook {
    /// Rolls back the run journaled next to the plan.
    ///
    /// The undo records (old symlink target, aside directory, drop-in content, manifest backup)
    /// come from the journal; the stop and start actions from the plan as it is now, so an operator
    /// may fix a broken start command before rolling back.
    /// - Parameter dryRun: print every action without writing anything.
    public func rollback(dryRun: Bool = false) async throws -> RunbookJournal {
        let fx = effects(dryRun: dryRun)
        guard var journal = try store.load() else {
            throw RunbookError(.journalMissing, "there is no journal \(journalPath): no run of this plan to roll back")
        }
        guard !journal.isRolledBack else {
            fx.say("run \(journal.runID) is already rolled back")
            return journal
        }
        fx.say("rolling back run \(journal.runID) (journal \(journalPath))\(dryRun ? " (dry run: nothing will be changed)" : "")")
        if environment.sha256(planBytes) != journal.planSHA256 {
            fx.say("note: the plan changed since the run; the undo follows the journal, stop and start follow the plan as it is now")
        }
        for step in RollbackStep.allCases {
            let stepFX = fx.labeled("rollback \(step.rawValue)")
            try await journaled(step, skipReason: skipReason(step, journal: journal), journal: &journal, fx: stepFX, failure: { reason in
                stepFX.say("fix the cause and run the rollback again: \(rollbackCommand)")
                return RunbookError(.rollbackFailed, "rollback step \(step.rawValue) failed: \(reason). Fix the cause and run '\(rollbackCommand)' again")
            }) { journal in
                try await undo(step, journal: &journal, fx: stepFX)
            }
        }
        fx.say(dryRun
            ? "dry run complete: nothing was changed"
            : "rollback complete; the restored data-dir \(journal.newDataDir) is kept")
        return journal
    }

    /// Why a rollback step has nothing to do, or `nil` when it must act.
    private func skipReason(_ step: RollbackStep, journal: RunbookJournal) -> String? {
        switch step {
        case .stopServer:
            journal.status(RunbookStep.startServer).mayHaveActed ? nil : "start-server never ran: the server is still stopped"
        case .undoRepoint:
            journal.status(RunbookStep.repoint).mayHaveActed ? nil : "repoint never ran"
        case .startServer:
            journal.previous.serverWasUp == true ? nil : "the server was not running before the run (or was never stopped)"
        case .startAPIServer:
            plan.apiServer != nil && journal.status(RunbookStep.stopAPIServer).mayHaveActed ? nil : "the run never stopped the API server"
        }
    }

    private func undo(_ step: RollbackStep, journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        switch step {
        case .stopServer:
            let deadline = environment.now().addingTimeInterval(Self.seconds(plan.server.stopTimeout))
            let stopped = try await stop(plan.server.control, timeout: remaining(until: deadline), journal: &journal, fx: fx)
            try await waitUntilDown(deadline: deadline, timeout: plan.server.stopTimeout, fx: fx)
            return "\(stopped); \(plan.endpoint) no longer answers"
        case .undoRepoint:
            return try await undoRepoint(journal: journal, fx: fx)
        case .startServer:
            return try await startServer(.any, fx: fx)
        case .startAPIServer:
            guard let apiServer = plan.apiServer else { preconditionFailure("skipped without an apiServer") }
            return try await start(apiServer, timeout: Self.apiServerTimeout, fx: fx)
        }
    }
}
