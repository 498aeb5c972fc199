import Foundation

extension RestoreRunbook {
    /// restore: the injected restore writes the new data-dir chosen when the run started.
    ///
    /// Idempotent through the restore's own contract (see `RunbookEnvironment.restore`): a second
    /// call clears its scratch or returns the outcome of the complete directory it finds.
    func restoreStep(snapshot: String, journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        let directory = journal.newDataDir
        guard let outcome = try await fx.restore(snapshot, into: directory, options: plan.member) else {
            return "would restore into \(directory)"
        }
        guard try fx.isDirectory(directory) else {
            throw RunbookError(.fileSystem, "the restore reported success but \(directory) is not a directory")
        }
        guard outcome.revision >= journal.snapshot.revision else {
            throw RunbookError(.serverState, "the restore reported revision \(outcome.revision), below the snapshot's \(journal.snapshot.revision)")
        }
        journal.expectedRevision = outcome.revision
        return "restored revision \(outcome.revision) into \(directory)"
    }
}
