import Foundation
import Storage

/// Writes a snapshot archive: the database streamed in as it arrives, split into parts of
/// ``partBytes`` (a tar header needs each member's size first, and a streamed copy's size is
/// known only at its end), then `manifest.json`; all through zstd into `FILE.part`, which is
/// fsynced and renamed to `FILE` only when complete, with `FILE.sha256` beside it. Memory stays
/// at one part. A failed or abandoned save leaves no `FILE`.
/// Used by one task at a time (it may move between threads, hence `@unchecked Sendable`).
public final class SnapshotArchiveWriter: @unchecked Sendable {
    public static let partBytes = 16 << 20
    public static func partName(_ index: Int) -> String { String(format: "db/%08d", index) }

    public let path: String
    private var partialPath: String { path + ".part" }
    private let file: FileHandle
    private let outerDigest = SHA256Digest()
    private var compressedBytes = 0
    private var compressor: ZstdCompressor!
    /// Set when the archive is encrypted: everything after it (zstd stream and trailer) goes
    /// through it, and the file holds its output.
    private var envelope: EnvelopeWriter?
    private var tar: TarWriter!
    private var part: [UInt8] = []
    private var partIndex = 0
    private var members: [SnapshotManifest.Member] = []
    private let databaseDigest = SHA256Digest()
    private var databaseBytes: Int64 = 0
    private var finished = false
    /// Set once the archive is abandoned: libarchive's last flush (when the tar writer is
    /// freed) must not reach the compressor any more.
    private var discarding = false

    /// Refuses an existing `path` unless `force`. `level` is zstd's (1…19); `workers` > 0
    /// compresses on that many threads.
    /// With `encryptionKey`, the whole archive is sealed in an AES-256-GCM envelope
    /// (``EnvelopeWriter``); `FILE.sha256` is then of the encrypted file, checkable without the key.
    public init(path: String, force: Bool, level: Int32 = 3, workers: Int32 = 0, encryptionKey: EncryptionKey? = nil) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path), !force {
            throw BackupError("save", at: path, "the file exists; pass --force to replace it")
        }
        let partial = path + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]),
            let file = FileHandle(forWritingAtPath: partial)
        else { throw BackupError("save", at: partial, "cannot create the file: \(String(cString: strerror(errno)))") }
        self.file = file
        let output: ([UInt8]) throws -> Void = { [unowned self] bytes in
            outerDigest.update(bytes)
            compressedBytes += bytes.count
            try file.write(contentsOf: bytes)
        }
        if let encryptionKey { envelope = try EnvelopeWriter(key: encryptionKey, sink: output) }
        compressor = try ZstdCompressor(level: level, workers: workers) { [unowned self] bytes in
            try emit(bytes, output)
        }
        tar = try TarWriter { [unowned self] bytes in
            guard !discarding else { return }
            try compressor.compress(bytes)
        }
        part.reserveCapacity(Self.partBytes)
    }

    deinit {
        if !finished { abandon() }
    }

    /// Compression threads for a snapshot: up to four, leaving a core to the server.
    public static var defaultWorkers: Int32 { Int32(min(4, max(0, ProcessInfo.processInfo.activeProcessorCount - 1))) }

    /// The whole of a backend copy, read in 1 MiB pieces.
    public func appendDatabase(from copy: BackendCopyStream) async throws {
        while true {
            let chunk = try await copy.next(upTo: 1 << 20)
            if chunk.isEmpty { return }
            try chunk.withUnsafeBytes { try appendDatabase($0) }
        }
    }

    /// The next bytes of the database.
    public func appendDatabase(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            let take = min(rest.count, Self.partBytes - part.count)
            part.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            if part.count == Self.partBytes { try flushPart() }
        }
    }

    private func flushPart() throws {
        guard !part.isEmpty else { return }
        let name = Self.partName(partIndex)
        let digest = SHA256Digest()
        try part.withUnsafeBytes { bytes in
            digest.update(bytes)
            databaseDigest.update(bytes)
            try tar.add(name: name, bytes: bytes)
        }
        members.append(SnapshotManifest.Member(name: name, bytes: Int64(part.count), sha256: digest.finish().hexString))
        databaseBytes += Int64(part.count)
        partIndex += 1
        part.removeAll(keepingCapacity: true)
    }

    /// Completes the archive with `manifest` (its member list and database facts filled in
    /// here) and makes it durable; returns the manifest as written.
    public func finish(manifest: SnapshotManifest) throws -> (manifest: SnapshotManifest, sha256: String, bytes: Int) {
        try flushPart()
        guard databaseBytes > 0 else { throw BackupError("save", at: path, "the database stream was empty") }
        var manifest = manifest
        manifest.members = members
        manifest.databaseBytes = databaseBytes
        manifest.databaseSHA256 = databaseDigest.finish().hexString
        let json = try manifest.encoded()
        try json.withUnsafeBytes { try tar.add(name: SnapshotManifest.fileName, bytes: $0) }
        try tar.finish()
        try compressor.finish()
        try emit(ManifestTrailer.encode(json)) { [self] trailer in
            outerDigest.update(trailer)
            compressedBytes += trailer.count
            try file.write(contentsOf: trailer)
        }
        try envelope?.finish()
        try file.synchronize()
        try file.close()
        let sha256 = outerDigest.finish().hexString
        guard rename(partialPath, path) == 0 else {
            throw BackupError("save", at: path, "cannot rename \(partialPath): \(String(cString: strerror(errno)))")
        }
        try Self.writeDurably(path + ".sha256", "\(sha256)  \((path as NSString).lastPathComponent)\n")
        try Self.syncDirectory(of: path)
        finished = true
        return (manifest, sha256, compressedBytes)
    }

    /// Hands archive bytes to the envelope when encrypting, else straight to `output`.
    private func emit(_ bytes: [UInt8], _ output: ([UInt8]) throws -> Void) throws {
        guard let envelope else { return try output(bytes) }
        try bytes.withUnsafeBytes { try envelope.write($0) }
    }

    /// Removes `FILE.part`.
    public func abandon() {
        finished = true
        discarding = true
        tar = nil
        try? file.close()
        unlink(partialPath)
    }

    static func writeDurably(_ path: String, _ text: String) throws {
        let temporary = path + ".part"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw BackupError("save", at: temporary, "cannot write: \(String(cString: strerror(errno)))") }
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw BackupError("save", at: path, "cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
    }

    static func syncDirectory(of path: String) throws {
        let fd = open(PathText.parent(of: path), O_RDONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        fsync(fd)
    }
}
