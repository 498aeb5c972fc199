import GRPCCore
import Storage

/// What a cairn server knows about the backend copy it streams in Maintenance.Snapshot, sent
/// as trailing metadata (etcd clients ignore it): read while writes were held for the copy to
/// begin, so the facts describe exactly the streamed bytes.
public struct SnapshotFacts: Sendable, Equatable {
    public var revision: Int64
    public var compactRevision: Int64
    public var raftIndex: UInt64
    public var raftTerm: UInt64
    public var clusterID: UInt64
    public var memberID: UInt64
    public var memberName: String
    public var keyCount: Int64
    public var kvHash: UInt32

    static let prefix = "cairn-snapshot-"

    var metadata: Metadata {
        var metadata = Metadata()
        let fields: [(String, String)] = [
            ("revision", "\(revision)"), ("compact-revision", "\(compactRevision)"), ("raft-index", "\(raftIndex)"),
            ("raft-term", "\(raftTerm)"), ("cluster-id", "\(clusterID)"), ("member-id", "\(memberID)"),
            ("member-name", memberName), ("key-count", "\(keyCount)"), ("kv-hash", "\(kvHash)"),
        ]
        for (name, value) in fields { metadata.addString(value, forKey: Self.prefix + name) }
        return metadata
    }

    /// nil when the trailers carry no facts (the server is etcd, or an older cairn).
    public init?(_ metadata: Metadata) {
        func field(_ name: String) -> String? { metadata[stringValues: Self.prefix + name].first(where: { _ in true }) }
        guard let revision = field("revision").flatMap(Int64.init), let compact = field("compact-revision").flatMap(Int64.init),
            let index = field("raft-index").flatMap(UInt64.init), let term = field("raft-term").flatMap(UInt64.init),
            let cluster = field("cluster-id").flatMap(UInt64.init), let member = field("member-id").flatMap(UInt64.init),
            let keys = field("key-count").flatMap(Int64.init), let hash = field("kv-hash").flatMap(UInt32.init)
        else { return nil }
        self.init(revision: revision, compactRevision: compact, raftIndex: index, raftTerm: term, clusterID: cluster,
            memberID: member, memberName: field("member-name") ?? "", keyCount: keys, kvHash: hash)
    }

    public init(revision: Int64, compactRevision: Int64, raftIndex: UInt64, raftTerm: UInt64, clusterID: UInt64,
        memberID: UInt64, memberName: String, keyCount: Int64, kvHash: UInt32)
    {
        self.revision = revision
        self.compactRevision = compactRevision
        self.raftIndex = raftIndex
        self.raftTerm = raftTerm
        self.clusterID = clusterID
        self.memberID = memberID
        self.memberName = memberName
        self.keyCount = keyCount
        self.kvHash = kvHash
    }
}
