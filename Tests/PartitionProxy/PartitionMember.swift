#if canImport(Glibc)
import Glibc
#endif

/// A running member process a proxy may attribute connections to.
public struct PartitionMember: Hashable, Sendable {
    public var pid: pid_t
    /// The label used in `PartitionTable` cuts.
    public var label: String

    public init(pid: pid_t, label: String) {
        self.pid = pid
        self.label = label
    }
}
