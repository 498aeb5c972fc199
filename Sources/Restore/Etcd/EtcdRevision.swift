/// etcd's on-disk revision encoding, the key of every entry in the `key` bucket.
///
/// From etcd `mvcc/revision.go` (3.4; `server/mvcc/revision.go` in 3.5, unchanged): 8-byte
/// big-endian main revision, the byte '_', 8-byte big-endian sub revision (`revBytesLen` = 17).
/// A deletion's key carries one more byte, 't' (`markedRevBytesLen` = 18, `markTombstone`).
/// The same 17-byte form is the value of the meta bucket's compaction keys.
struct EtcdRevision: Sendable, Equatable {
    static let bytes = 17
    static let markedBytes = 18
    static let separator = UInt8(ascii: "_")
    static let tombstoneMark = UInt8(ascii: "t")

    let main: Int64
    let sub: Int64

    /// Decodes a revision key, or nil if `bytes` is not one. Tombstone marks are only accepted
    /// when `allowTombstone`.
    static func decode(_ bytes: [UInt8], allowTombstone: Bool) -> (revision: EtcdRevision, isTombstone: Bool)? {
        let isTombstone: Bool
        switch bytes.count {
        case Self.bytes: isTombstone = false
        case Self.markedBytes where allowTombstone && bytes[Self.bytes] == tombstoneMark: isTombstone = true
        default: return nil
        }
        guard bytes[8] == separator else { return nil }
        let main = Int64(bitPattern: bigEndian(bytes[0..<8]))
        let sub = Int64(bitPattern: bigEndian(bytes[9..<17]))
        // etcd revisions start at 1 and sub revisions at 0; a negative one is not etcd's.
        guard main >= 0, sub >= 0 else { return nil }
        return (EtcdRevision(main: main, sub: sub), isTombstone)
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        precondition(bytes.count == 8, "a big-endian UInt64 is 8 bytes")
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
