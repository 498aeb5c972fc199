import Foundation

/// The state file `<plan>.state.json`: everything a resumed run or a rollback needs, written
/// atomically before and after every step.
public struct RunbookJournal: Codable, Sendable, Equatable {
    /// Bumped when the layout changes incompatibly; older journals are refused, not guessed at.
    public static let formatVersion = 1

    public var version: Int
    /// The run's UTC timestamp `yyyyMMdd-HHmmss`, also the suffix of every path the run creates.
    public var runID: String
    public var startedAt: Date
    public var planPath: String
    public var planSHA256: String
    public var snapshotPath: String
    public var snapshot: SnapshotFacts
    /// The data-dir path the server is configured with.
    public var dataDir: String
    /// The restored data-dir, chosen once when the run started.
    public var newDataDir: String
    /// The revision the restore reported; start-server waits for at least this.
    public var expectedRevision: Int64?
    /// Facts about what the run changed, recorded before each change, for rollback.
    public var previous: Previous
    public var steps: [StepRecord<RunbookStep>]
    /// Present once a rollback has started; a rolled-back run cannot be resumed.
    public var rollback: [StepRecord<RollbackStep>]?

    /// What was there before the run changed it.
    public struct Previous: Codable, Sendable, Equatable {
        /// Whether the server answered the probe just before stop-server stopped it.
        public var serverWasUp: Bool?
        /// The API server's manifest, when the run parked it.
        public var parkedAPIServerManifest: String?
        /// The server's manifest, when the run parked it.
        public var parkedServerManifest: String?
        /// Symlink repointing: what `dataDir` was.
        public var dataDir: DataDirFacts?
        /// Drop-in repointing: the drop-in file's path and its content before (`nil`: no file).
        public var dropIn: DropInFacts?
        /// Static-pod repointing: the manifest edited and its untouched copy.
        public var manifest: ManifestFacts?

        public init() {}
    }

    public struct DataDirFacts: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case symlink, directory, missing }
        public var kind: Kind
        /// For `symlink`: its target, exactly as readlink(2) returned it.
        public var target: String?
        /// For `directory`: where the old data-dir was renamed to.
        public var asidePath: String?

        public init(kind: Kind, target: String? = nil, asidePath: String? = nil) {
            self.kind = kind
            self.target = target
            self.asidePath = asidePath
        }
    }

    public struct DropInFacts: Codable, Sendable, Equatable {
        public var path: String
        public var content: String?

        public init(path: String, content: String?) {
            self.path = path
            self.content = content
        }
    }

    public struct ManifestFacts: Codable, Sendable, Equatable {
        /// The manifest's configured path (in the manifests directory).
        public var path: String
        public var backupPath: String

        public init(path: String, backupPath: String) {
            self.path = path
            self.backupPath = backupPath
        }
    }

    /// One step's progress.
    public struct StepRecord<Step: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        public var step: Step
        public var status: StepStatus
        public var startedAt: Date?
        public var finishedAt: Date?
        /// One line: what the step found or did, or why it failed.
        public var detail: String?
    }

    init(
        runID: String, startedAt: Date, planPath: String, planSHA256: String, snapshotPath: String,
        snapshot: SnapshotFacts, dataDir: String, newDataDir: String
    ) {
        version = Self.formatVersion
        self.runID = runID
        self.startedAt = startedAt
        self.planPath = planPath
        self.planSHA256 = planSHA256
        self.snapshotPath = snapshotPath
        self.snapshot = snapshot
        self.dataDir = dataDir
        self.newDataDir = newDataDir
        previous = Previous()
        steps = RunbookStep.allCases.map { StepRecord(step: $0, status: .pending) }
    }

    public func status(_ step: RunbookStep) -> StepStatus {
        steps.first { $0.step == step }?.status ?? .pending
    }

    /// The first step with work left, or `nil` when the run is complete.
    public var stoppedAt: RunbookStep? {
        steps.first { !$0.status.isSettled }?.step
    }

    public var isComplete: Bool { stoppedAt == nil }

    public var isRolledBack: Bool {
        rollback.map { records in records.allSatisfy(\.status.isSettled) } ?? false
    }

    mutating func mark(_ step: RunbookStep, _ status: StepStatus, at time: Date, detail: String? = nil) {
        guard let index = steps.firstIndex(where: { $0.step == step }) else {
            preconditionFailure("journal has no record for step \(step.rawValue)")
        }
        steps[index].update(status, at: time, detail: detail)
    }

    mutating func mark(_ step: RollbackStep, _ status: StepStatus, at time: Date, detail: String? = nil) {
        if rollback == nil {
            rollback = RollbackStep.allCases.map { StepRecord(step: $0, status: .pending) }
        }
        guard let index = rollback?.firstIndex(where: { $0.step == step }) else {
            preconditionFailure("journal has no record for rollback step \(step.rawValue)")
        }
        rollback?[index].update(status, at: time, detail: detail)
    }

    public func status(_ step: RollbackStep) -> StepStatus {
        rollback?.first { $0.step == step }?.status ?? .pending
    }
}

extension RunbookJournal.StepRecord {
    fileprivate mutating func update(_ newStatus: StepStatus, at time: Date, detail newDetail: String?) {
        precondition(!status.isSettled || newStatus == status, "step \(step) is \(status.rawValue) and cannot become \(newStatus.rawValue)")
        switch newStatus {
        case .running:
            startedAt = time
            finishedAt = nil
        case .done, .skipped, .failed:
            startedAt = startedAt ?? time
            finishedAt = time
        case .pending:
            preconditionFailure("a step never returns to pending")
        }
        status = newStatus
        detail = newDetail
    }
}
