import ArgumentParser
import Backup
import Foundation
import Restore
import Server

/// `cairn runbook …`: the automated restore runbook (see runbooks/ and docs/runbook.md).
struct RunbookCommandLine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Automate the restore runbook: stop the API server and cairn, restore, repoint the data-dir, restart.",
        subcommands: [RestoreRun.self, Rollback.self]
    )

    /// An absolute path for the runbook, which journals absolute paths.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func load(plan: String, environment: CairnRunbookEnvironment) throws -> RestoreRunbook {
        // Unbuffered: an operator (or a test) watching a run sees each step as it happens.
        try RestoreRunbook.load(planPath: absolute(plan), environment: environment) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }


    struct RestoreRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Run the restore runbook of PLAN.yaml with a snapshot, journaled to PLAN.yaml.state.json.",
            discussion: """
                Steps: preflight, stop-api-server, stop-server, restore, repoint, start-server \
                (waits until healthy at the restored revision), start-api-server. Each step is \
                journaled before and after it acts; a run that stopped continues with --resume. \
                The old data-dir is never deleted. Undo with cairn runbook rollback --plan PLAN.yaml.
                """)

        @Option(help: "The snapshot to restore (a cairn archive or an etcd snapshot file).") var snapshot: String
        @Option(help: "The plan (YAML); its journal is written next to it.") var plan: String
        @Flag(help: "Check and print every action without changing anything (no journal either).") var dryRun = false
        @Flag(help: "Continue the run the journal records, from its first unfinished step.") var resume = false
        @OptionGroup var encryption: SnapshotCommand.EncryptionOption
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if dryRun && resume { throw ValidationError("--dry-run and --resume do not go together") }
        }

        func run() async throws {
            do {
                let runbook = try RunbookCommandLine.load(plan: plan,
                    environment: CairnRunbookEnvironment(access: client.access, encryptionKey: try encryption.key()))
                _ = try await runbook.restore(snapshot: RunbookCommandLine.absolute(snapshot), dryRun: dryRun, resume: resume)
            } catch {
                throw CommandFailure.exit(error)
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a restore run from its journal: the old data-dir back in place, the servers restarted on it.",
            discussion: "The restored data-dir is kept. Each rollback step is journaled and safe to repeat.")

        @Option(help: "The plan of the run to undo.") var plan: String
        @Flag(help: "Print every action without changing anything.") var dryRun = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            do {
                _ = try await RunbookCommandLine.load(plan: plan,
                    environment: CairnRunbookEnvironment(access: client.access, encryptionKey: nil)).rollback(dryRun: dryRun)
            } catch {
                throw CommandFailure.exit(error)
            }
        }
    }
}

/// The runbook's view of cairn and the machine: the real snapshot checks and restore, the
/// endpoint probe, processes.
struct CairnRunbookEnvironment: RunbookEnvironment {
    private let runner = ProcessCommandRunner()
    /// How the probe reaches the server (https, client certificates, a user when auth is on).
    let access: ClientAccess
    /// The key of an encrypted snapshot.
    let encryptionKey: EncryptionKey?

    func verify(snapshot: String) async throws -> Restore.SnapshotFacts {
        let facts = try SnapshotRestore.inspect(snapshot: snapshot, encryptionKey: encryptionKey)
        return Restore.SnapshotFacts(revision: facts.revision, databaseBytes: facts.databaseBytes)
    }

    func restore(snapshot: String, into directory: String, options: RunbookMember) async throws -> RestoreOutcome {
        if let revision = try SnapshotRestore.restoredRevision(in: directory) {
            return RestoreOutcome(revision: revision)
        }
        let restoreOptions = try RestoreFlags(name: options.name, initialCluster: options.initialCluster,
            initialClusterToken: options.initialClusterToken, initialAdvertisePeerURLs: options.initialAdvertisePeerURLs
        ).options(revisionBump: options.bumpRevision, markCompacted: options.markCompacted, skipHashCheck: false,
            encryptionKey: encryptionKey)
        let summary = try await SnapshotRestore.restore(snapshot: snapshot, into: directory, options: restoreOptions)
        return RestoreOutcome(revision: summary.revision)
    }

    func probe(endpoint: String) async -> ProbeResult {
        switch try? await EndpointProbe.ask(endpoint: endpoint, access: access) {
        case .up(let revision, let healthy, _): .up(revision: revision, healthy: healthy)
        case .down, nil: .down
        }
    }

    func sha256(_ data: Data) -> String {
        let digest = SHA256Digest()
        data.withUnsafeBytes { digest.update($0) }
        return digest.finish().hexString
    }

    func now() -> Date { Date() }

    func run(_ command: RunbookCommand, timeout: Duration) async throws -> CommandResult {
        try await runner.run(command, timeout: timeout)
    }
}
