import Foundation
import Raft

/// A member's data-dir, laid out as etcd's: `member/wal` for the log, `member/snap/db` for the
/// backend, `member/snap/<index>.snap.db` for a backend received from the leader.
public struct DataDirectory: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var walDirectory: String { root + "/member/wal" }
    public var snapshotDirectory: String { root + "/member/snap" }
    public var backendPath: String { root + "/member/snap/db" }

    public var hasWAL: Bool { !((try? FileManager.default.contentsOfDirectory(atPath: walDirectory)) ?? []).isEmpty }

    /// A founding member of a new cluster: its name and peer URLs as `--initial-cluster` gives them.
    public struct FoundingMember: Sendable, Hashable {
        public var name: String
        public var peerURLs: [String]

        public init(name: String, peerURLs: [String]) {
            self.name = name
            self.peerURLs = peerURLs
        }
    }

    /// The member records and the ids of a new cluster, derived as etcd derives them from
    /// `--initial-cluster` and `--initial-cluster-token`, for the member called `name`.
    public static func founding(_ members: [FoundingMember], name: String, token: String)
        -> (identity: MemberIdentity, records: [MemberRecord])?
    {
        // Client URLs arrive through raft when each member publishes them, so that every
        // member's record is the same everywhere.
        let records = members.map { member in
            MemberRecord(id: ClusterIdentity.memberID(peerURLs: member.peerURLs, token: token), name: member.name,
                peerURLs: member.peerURLs)
        }
        guard let own = records.first(where: { $0.name == name }) else { return nil }
        let clusterID = ClusterIdentity.clusterID(memberIDs: records.map(\.id))
        return (MemberIdentity(memberID: own.id, clusterID: clusterID), records)
    }

    /// Makes `store` the founding state of a new cluster: the members and cluster id in the
    /// backend at raft index 1, term 1, and the membership as a raft snapshot at that index in
    /// the new WAL (as every founding member does). A restore passes a store that already
    /// holds the key space; its applied index is reset to 1 with it.
    public static func bootstrap(store: MVCCStore, wal: WAL, identity: MemberIdentity, members: [MemberRecord])
        async throws
    {
        try await store.write { transaction in
            try transaction.resetMembership(clusterID: identity.clusterID, members: members, appliedIndex: 1, term: 1)
        }
        try store.sync()
        let confState = ConfState(voters: Set(members.map(\.id)))
        try await wal.append([
            .snapshot(SnapshotMetadata(index: 1, term: 1, confState: confState)),
            .hardState(HardState(term: 1, vote: .none, commit: 1)),
        ])
    }
}

/// Who a data-dir belongs to: stored as the WAL's metadata, so a restarted member knows its
/// ids whatever its flags say.
public struct MemberIdentity: Sendable, Hashable {
    public var memberID: UInt64
    public var clusterID: UInt64

    public init(memberID: UInt64, clusterID: UInt64) {
        self.memberID = memberID
        self.clusterID = clusterID
    }

    /// Member id then cluster id, 8 big-endian bytes each.
    public var walMetadata: [UInt8] {
        var bytes: [UInt8] = []
        for word in [memberID, clusterID] {
            withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    public init?(walMetadata bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        let words = stride(from: 0, to: 16, by: 8).map { start in
            bytes[start..<start + 8].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        }
        self.init(memberID: words[0], clusterID: words[1])
    }
}
