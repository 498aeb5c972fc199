/// A duplicate in the `index` database: one revision at which a key changed, and whether the
/// change was a delete. Fixed at 17 bytes so the database can use `MDB_DUPFIXED`.
struct IndexEntry: Hashable, Sendable {
    var revision: Revision
    var isTombstone: Bool

    static let encodedSize = Revision.encodedSize + 1

    var encoded: [UInt8] { revision.encoded + [isTombstone ? 1 : 0] }

    init(revision: Revision, isTombstone: Bool) {
        self.revision = revision
        self.isTombstone = isTombstone
    }

    init?(encoded bytes: [UInt8]) {
        guard bytes.count == Self.encodedSize, let revision = Revision(encoded: bytes), bytes[16] <= 1 else {
            return nil
        }
        self.revision = revision
        self.isTombstone = bytes[16] == 1
    }
}
