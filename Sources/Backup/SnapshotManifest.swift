import Foundation

/// `manifest.json`, the last member of a snapshot archive: what the snapshot holds, where it
/// came from, and the SHA-256 of every other member.
public struct SnapshotManifest: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 1
    public static let fileName = "manifest.json"

    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var bytes: Int64
        public var sha256: String
    }

    public var formatVersion = SnapshotManifest.currentFormatVersion
    /// `cairn` for a cairn backend (LMDB), `etcd` for an etcd one (bbolt).
    public var source: String
    public var clusterID: String
    public var memberID: String
    public var memberName: String
    public var revision: Int64
    public var compactRevision: Int64
    public var raftIndex: UInt64
    public var raftTerm: UInt64
    public var keyCount: Int64
    /// The KV hash at `revision` (etcd's HashKV algorithm over the content).
    public var kvHash: UInt32
    /// The database's size, the sum of its parts.
    public var databaseBytes: Int64
    /// The SHA-256 of the whole database (its parts concatenated).
    public var databaseSHA256: String
    /// The database's parts (`db/00000000`, …), in order, and every other member but this one.
    public var members: [Member]
    public var serverVersion: String
    public var createdAt: String
    public var toolVersion: String

    public init(source: String, clusterID: UInt64, memberID: UInt64, memberName: String, revision: Int64,
        compactRevision: Int64, raftIndex: UInt64, raftTerm: UInt64, keyCount: Int64, kvHash: UInt32,
        serverVersion: String, toolVersion: String, createdAt: Date = Date())
    {
        self.source = source
        self.clusterID = String(clusterID, radix: 16)
        self.memberID = String(memberID, radix: 16)
        self.memberName = memberName
        self.revision = revision
        self.compactRevision = compactRevision
        self.raftIndex = raftIndex
        self.raftTerm = raftTerm
        self.keyCount = keyCount
        self.kvHash = kvHash
        databaseBytes = 0
        databaseSHA256 = ""
        members = []
        self.serverVersion = serverVersion
        self.toolVersion = toolVersion
        self.createdAt = ISO8601DateFormatter().string(from: createdAt)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
