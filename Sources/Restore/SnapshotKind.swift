import Foundation

/// What a snapshot file is, from its first bytes: a cairn archive (a zstd stream) or a bare
/// etcd backend (a bbolt file, as `etcdctl snapshot save` writes it).
enum SnapshotKind {
    case cairnArchive
    case etcdSnapshot

    /// A zstd frame's magic number, little endian.
    private static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
    /// bbolt's magic (0xED0CDAED, little endian) in the meta page, after the 16-byte page header.
    private static let boltMagic: [UInt8] = [0xED, 0xDA, 0x0C, 0xED]
    private static let boltMagicOffset = 16

    static func detect(path: String) throws -> SnapshotKind {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw RestoreError(.invalidSnapshot, "cannot read the snapshot \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? file.close() }
        let head = [UInt8]((try? file.read(upToCount: boltMagicOffset + boltMagic.count)) ?? Data())
        if head.starts(with: zstdMagic) || head.starts(with: Array("CAIRNENC".utf8)) { return .cairnArchive }
        if head.count == boltMagicOffset + boltMagic.count, Array(head[boltMagicOffset...]) == boltMagic {
            return .etcdSnapshot
        }
        throw RestoreError(.invalidSnapshot,
            "\(path) is neither a cairn snapshot archive (zstd, or encrypted) nor an etcd snapshot (bbolt): its first bytes are \(head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " "))")
    }
}
