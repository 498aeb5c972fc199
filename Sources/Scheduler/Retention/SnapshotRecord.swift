import Foundation

/// One snapshot file in a backup directory, as far as retention needs to know it.
///
/// The caller reads these from the directory and the catalog; retention never touches the file.
public struct SnapshotRecord: Sendable, Hashable {
    /// The file name. Unique within one directory, and the tie-breaker between snapshots
    /// created at the same instant.
    public var name: String
    /// When the snapshot was taken.
    public var createdAt: Date
    /// Whether the snapshot passed verification after it was written. Only verified snapshots
    /// count towards the hourly, daily, weekly and monthly rules.
    public var verified: Bool
    /// The size of the file, for reports of what a prune frees.
    public var sizeBytes: Int64

    /// Describes one snapshot file.
    public init(name: String, createdAt: Date, verified: Bool, sizeBytes: Int64) {
        self.name = name
        self.createdAt = createdAt
        self.verified = verified
        self.sizeBytes = sizeBytes
    }

    /// Whether this snapshot comes after `other` in retention's total order: later `createdAt`,
    /// and among equal instants the name that sorts last, so that every plan is deterministic.
    func isNewer(than other: SnapshotRecord) -> Bool {
        createdAt == other.createdAt ? name > other.name : createdAt > other.createdAt
    }
}
