import Foundation
import Storage

/// Reads a snapshot archive in one streaming pass and runs the integrity checks of
/// ARCHITECTURE.md: the outer SHA-256 against `FILE.sha256`, the zstd frames and their
/// checksums, the tar structure and member list, each member's SHA-256; then, when the
/// database is wanted, opens it read-only and decodes every record, and with `deep`
/// recomputes the KV hash, key count and revision range. Every failure names its check and
/// where it failed.
public enum SnapshotArchiveReader {
    public struct Report: Sendable {
        public var manifest: SnapshotManifest
        /// The archive's own SHA-256 (of the compressed file).
        public var sha256: String
        public var compressedBytes: Int
        /// The fingerprint of the key an encrypted archive was sealed with; nil when plain.
        public var keyFingerprint: String?
        /// What each check found; a check that could not run says why.
        public var checks: [(name: String, result: String)] = []
    }

    /// Reads the archive at `path`. With `databaseDirectory`, the database is reassembled
    /// there (as `db`) for the record checks; otherwise only the streaming checks run.
    /// `checkSidecar` false skips check 1 (restore's `--skip-hash-check`); `progress` hears
    /// the compressed bytes read so far.
    /// An encrypted archive needs `encryptionKey`; it is refused without it, naming the key.
    public static func read(path: String, databaseDirectory: String? = nil, deep: Bool = false,
        checkSidecar: Bool = true, encryptionKey: EncryptionKey? = nil, progress: ((Int) -> Void)? = nil) throws -> Report
    {
        // Check 1 first: a file that is not what was written is reported as such, before
        // whatever its damage does to the decoding.
        let sidecar = path + ".sha256"
        var outerCheck = ("outer sha256", "skipped: no \((sidecar as NSString).lastPathComponent) beside the file")
        if !checkSidecar {
            outerCheck = ("outer sha256", "skipped: --skip-hash-check")
        } else if let text = try? String(contentsOfFile: sidecar, encoding: .utf8) {
            let recorded = text.split(separator: " ").first.map(String.init) ?? ""
            let actual = try sha256(of: path)
            guard recorded == actual else {
                throw BackupError("outer sha256", at: sidecar, "the file's SHA-256 is \(actual), the sidecar says \(recorded)")
            }
            outerCheck = ("outer sha256", "ok: matches \((sidecar as NSString).lastPathComponent)")
        }
        let source = try ArchiveSource(path: path, key: encryptionKey, progress: progress)
        let zstd = try ZstdReader { count in try source.read(count) }
        let tar = try TarReader { buffer in try zstd.read(into: buffer) }

        var seen: [SnapshotManifest.Member] = []
        var manifestData: Data?
        let databaseDigest = SHA256Digest()
        let databasePath = databaseDirectory.map { $0 + "/db" }
        var database: FileHandle?
        if let databasePath {
            FileManager.default.createFile(atPath: databasePath, contents: nil, attributes: [.posixPermissions: 0o600])
            database = FileHandle(forWritingAtPath: databasePath)
            if database == nil { throw BackupError("database", at: databasePath, "cannot create the file") }
        }
        defer { try? database?.close() }

        while let member = try tar.next() {
            if manifestData != nil {
                throw BackupError("tar structure", at: member.name, "a member follows \(SnapshotManifest.fileName), which must be last")
            }
            if member.name == SnapshotManifest.fileName {
                var data = Data()
                try tar.readMember({ data.append(contentsOf: $0) }, name: member.name)
                manifestData = data
                continue
            }
            let expected = SnapshotArchiveWriter.partName(seen.count)
            guard member.name == expected else {
                throw BackupError("tar structure", at: member.name, "expected member \(expected) here")
            }
            let digest = SHA256Digest()
            var bytes: Int64 = 0
            try tar.readMember({ chunk in
                digest.update(chunk)
                databaseDigest.update(chunk)
                bytes += Int64(chunk.count)
                try database?.write(contentsOf: Data(chunk))
            }, name: member.name)
            seen.append(SnapshotManifest.Member(name: member.name, bytes: bytes, sha256: digest.finish().hexString))
        }
        // The zstd stream must end where the tar does, on a frame boundary.
        let trailing = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { trailing.deallocate() }
        while try zstd.read(into: trailing) > 0 {}

        guard let manifestData else {
            throw BackupError("tar structure", at: path, "no \(SnapshotManifest.fileName) (the archive is incomplete)")
        }
        let manifest = try decodeManifest(manifestData)
        guard source.manifestTrailer() == manifestData else {
            throw BackupError("manifest", at: "the end of \(path)",
                "the manifest copy in the trailing skippable frame is missing or differs from \(SnapshotManifest.fileName)")
        }
        var report = Report(manifest: manifest, sha256: source.outer.finish().hexString, compressedBytes: source.fileBytes)
        report.keyFingerprint = source.keyFingerprint
        report.checks.append(outerCheck)
        if let fingerprint = source.keyFingerprint {
            report.checks.append(("encryption", "ok: AES-256-GCM with key \(fingerprint), every frame authenticated"))
        }
        report.checks.append(("zstd stream", "ok: \(source.fileBytes) bytes, frame checksums valid"))

        guard seen.map(\.name) == manifest.members.map(\.name) else {
            throw BackupError("tar structure", at: path,
                "members \(seen.map(\.name)) differ from the manifest's \(manifest.members.map(\.name))")
        }
        report.checks.append(("tar structure", "ok: \(seen.count) database parts and the manifest"))
        for (found, listed) in zip(seen, manifest.members) where found != listed {
            throw BackupError("member sha256", at: found.name,
                "\(found.bytes) bytes with SHA-256 \(found.sha256); the manifest says \(listed.bytes) bytes, \(listed.sha256)")
        }
        let databaseSHA256 = databaseDigest.finish().hexString
        guard databaseSHA256 == manifest.databaseSHA256 else {
            throw BackupError("member sha256", at: "db", "the database's SHA-256 is \(databaseSHA256), the manifest says \(manifest.databaseSHA256)")
        }
        report.checks.append(("member sha256", "ok: every member matches the manifest"))

        if let databasePath {
            try database?.synchronize()
            try database?.close()
            database = nil
            try checkDatabase(at: databasePath, manifest: manifest, deep: deep, report: &report)
        }
        return report
    }

    private static func decodeManifest(_ data: Data) throws -> SnapshotManifest {
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: data)
        } catch {
            throw BackupError("manifest", at: SnapshotManifest.fileName, "does not decode: \(error)")
        }
        guard manifest.formatVersion == SnapshotManifest.currentFormatVersion else {
            throw BackupError("manifest", at: SnapshotManifest.fileName,
                "format version \(manifest.formatVersion); this cairn reads version \(SnapshotManifest.currentFormatVersion)")
        }
        return manifest
    }

    /// The manifest from the archive's trailing copy, without decompressing anything: what
    /// `status` shows. Nothing is verified (that is `verify`'s job); nil when the file has no
    /// trailing copy.
    /// nil for an archive without a readable trailer, and for an encrypted one (whose
    /// manifest needs the key: use ``read(path:databaseDirectory:deep:checkSidecar:encryptionKey:progress:)``).
    public static func quickManifest(path: String) throws -> SnapshotManifest? {
        guard let data = ManifestTrailer.read(path: path) else { return nil }
        return try decodeManifest(data)
    }

    /// The SHA-256 of the file at `path`, as `sha256sum` prints it.
    public static func sha256(of path: String) throws -> String {
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw BackupError("outer sha256", at: path, "cannot read the file: \(String(cString: strerror(errno)))")
        }
        defer { try? file.close() }
        let digest = SHA256Digest()
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { digest.update($0) }
        }
        return digest.finish().hexString
    }

    private static func checkDatabase(at path: String, manifest: SnapshotManifest, deep: Bool, report: inout Report) throws {
        guard manifest.source == "cairn" else {
            report.checks.append(("database records", "skipped: an \(manifest.source) database (bbolt) is checked by its SHA-256 only"))
            return
        }
        let store: MVCCStore
        let counts: RecordCounts
        do {
            store = try MVCCStore(path: path, options: MVCCOptions(readOnly: true))
            counts = try store.checkEveryRecord()
        } catch {
            throw BackupError("database records", at: "db", "\(error)")
        }
        defer { store.close() }
        report.checks.append(("database records", "ok: \(counts.revisions) revisions, \(counts.indexEntries) index entries, \(counts.leases) leases, \(counts.members) members decode"))
        guard deep else { return }
        do {
            let status = try store.status()
            guard status.revision == manifest.revision, status.compactRevision == manifest.compactRevision else {
                throw BackupError("deep", at: "db", "revision \(status.revision) compacted at \(status.compactRevision); the manifest says \(manifest.revision) compacted at \(manifest.compactRevision)")
            }
            let hash = try store.hashKV(revision: manifest.revision)
            guard hash.hash == manifest.kvHash, hash.keyCount == manifest.keyCount else {
                throw BackupError("deep", at: "db", "KV hash \(hash.hash) over \(hash.keyCount) keys; the manifest says \(manifest.kvHash) over \(manifest.keyCount)")
            }
            guard counts.revisions == 0 || counts.highestRevision <= manifest.revision else {
                throw BackupError("deep", at: "db", "records up to revision \(counts.highestRevision), past the manifest's \(manifest.revision)")
            }
            report.checks.append(("deep", "ok: revision \(status.revision), KV hash \(hash.hash), \(hash.keyCount) keys, revisions \(counts.lowestRevision)…\(counts.highestRevision)"))
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError("deep", at: "db", "\(error)")
        }
    }
}
