import Foundation

/// The bytes of an archive file as the zstd decoder pulls them: counted and hashed as they
/// are read from the file (the outer SHA-256 is of the file), and, for an encrypted archive,
/// authenticated and decrypted frame by frame first. The last plaintext bytes are kept so the
/// manifest trailer of an encrypted archive can be read without a second pass.
final class ArchiveSource {
    /// Enough for any manifest (each 16 MiB part lists in about 150 bytes).
    private static let keptTailBytes = 4 << 20
    private static let readBytes = 256 * 1024

    let path: String
    private let file: FileHandle
    let outer = SHA256Digest()
    private(set) var fileBytes = 0
    private let progress: ((Int) -> Void)?
    private var envelope: EnvelopeReader?
    /// The key's fingerprint when the archive is encrypted.
    let keyFingerprint: String?
    private var plaintext: [UInt8] = []
    private var plaintextOffset = 0
    private var tail: [UInt8] = []
    private var ended = false

    /// Refuses an encrypted archive without `key`, naming the key it needs.
    init(path: String, key: EncryptionKey?, progress: ((Int) -> Void)?) throws {
        self.path = path
        self.progress = progress
        let fingerprint: String?
        do {
            fingerprint = try Envelope.keyFingerprint(path: path)
        } catch {
            throw BackupError("open", at: path, "\(error)")
        }
        if let fingerprint, key == nil {
            throw BackupError("encryption", at: path,
                "the snapshot is encrypted (key \(fingerprint)); pass --encrypt-key-file with that key")
        }
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw BackupError("open", at: path, "cannot read the file: \(String(cString: strerror(errno)))")
        }
        self.file = file
        keyFingerprint = fingerprint
        if fingerprint != nil, let key {
            envelope = EnvelopeReader(key: key) { [unowned self] frame in decrypted.append(contentsOf: frame) }
        }
    }

    /// What the envelope delivered since the last read of the file.
    private var decrypted: [UInt8] = []

    deinit { try? file.close() }

    /// Up to `count` bytes; empty at the end.
    func read(_ count: Int) throws -> [UInt8] {
        guard let envelope else { return try readFile(count) }
        while plaintextOffset == plaintext.count && !ended {
            let bytes = try readFile(Self.readBytes)
            do {
                if bytes.isEmpty {
                    try envelope.finish()
                    ended = true
                } else {
                    try bytes.withUnsafeBytes { try envelope.consume($0) }
                }
            } catch {
                throw BackupError("encryption", at: path, "\(error)")
            }
            swap(&plaintext, &decrypted)
            decrypted.removeAll(keepingCapacity: true)
            plaintextOffset = 0
            keep(plaintext)
        }
        let take = min(count, plaintext.count - plaintextOffset)
        defer { plaintextOffset += take }
        return Array(plaintext[plaintextOffset..<plaintextOffset + take])
    }

    /// The manifest JSON of the trailing skippable frame, read after the stream has ended.
    func manifestTrailer() -> Data? {
        envelope == nil ? ManifestTrailer.read(path: path) : ManifestTrailer.decode(endOf: tail)
    }

    private func readFile(_ count: Int) throws -> [UInt8] {
        let bytes = [UInt8](try file.read(upToCount: count) ?? Data())
        outer.update(bytes)
        fileBytes += bytes.count
        progress?(fileBytes)
        return bytes
    }

    private func keep(_ bytes: [UInt8]) {
        tail.append(contentsOf: bytes)
        if tail.count > 2 * Self.keptTailBytes { tail.removeFirst(tail.count - Self.keptTailBytes) }
    }
}
