import Backup
import Storage

/// What a restored member becomes: its place in a new cluster, and how its revisions continue.
public struct RestoreOptions: Sendable {
    /// `--initial-cluster`: every member of the new cluster.
    public var initialCluster: [DataDirectory.FoundingMember]
    /// `--name`: which of them the restored data-dir belongs to.
    public var name: String
    /// `--initial-cluster-token`: with the peer URLs, determines the new member and cluster ids.
    public var initialClusterToken: String
    /// `--bump-revision`; nil keeps the snapshot's revision.
    public var revisionBump: RevisionBump?
    /// `--mark-compacted`: history up to the bumped revision becomes unreadable, so a watcher
    /// resuming from an old revision is told to re-list instead of missing changes.
    public var markCompacted: Bool
    /// `--skip-hash-check`: accept a snapshot without its checksum (an etcd backend copied
    /// from a data-dir), and skip the KV-hash recomputation of a cairn archive.
    public var skipHashCheck: Bool
    /// `--encrypt-key-file`: the key an encrypted cairn archive was sealed with.
    public var encryptionKey: EncryptionKey?

    public init(initialCluster: [DataDirectory.FoundingMember], name: String, initialClusterToken: String,
        revisionBump: RevisionBump? = nil, markCompacted: Bool = false, skipHashCheck: Bool = false,
        encryptionKey: EncryptionKey? = nil)
    {
        self.encryptionKey = encryptionKey
        self.initialCluster = initialCluster
        self.name = name
        self.initialClusterToken = initialClusterToken
        self.revisionBump = revisionBump
        self.markCompacted = markCompacted
        self.skipHashCheck = skipHashCheck
    }
}

/// How far a restore moves the revision forward, past every revision the old cluster could
/// have served after the snapshot was taken.
public enum RevisionBump: Sendable, Hashable, CustomStringConvertible {
    case by(Int64)
    /// Computed from the snapshot's revision alone, so every member restored from the same
    /// snapshot gets the same store.
    case automatic

    /// The floor of the automatic bump: Kubernetes' documented choice, over 11 days of writes at
    /// 1,000 a second, a rate few control planes sustain for minutes.
    public static let automaticFloor: Int64 = 1_000_000_000

    /// The amount for a snapshot at `revision`: the automatic bump is at least
    /// ``automaticFloor`` and at least the snapshot's revision, as a cluster that wrote R
    /// revisions in its whole life is not expected to write more than R again after its last
    /// snapshot.
    public func amount(forSnapshotRevision revision: Int64) -> Int64 {
        switch self {
        case .by(let amount): amount
        case .automatic: max(Self.automaticFloor, revision)
        }
    }

    /// Parses `auto` or a positive integer.
    public init?(argument: String) {
        if argument == "auto" {
            self = .automatic
        } else if let amount = Int64(argument), amount > 0 {
            self = .by(amount)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .by(let amount): "\(amount)"
        case .automatic: "auto"
        }
    }
}
