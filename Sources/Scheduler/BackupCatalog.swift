import Backup
import Foundation

/// `DIR/index.json`: the snapshots a scheduler wrote into a backup directory, with their
/// manifests and what verification found. Only snapshots listed here are ever pruned: a file
/// an operator copied into the directory is never deleted.
public struct BackupCatalog: Codable, Sendable, Equatable {
    public static let fileName = "index.json"
    public static let currentFormatVersion = 1

    public struct Entry: Codable, Sendable, Equatable {
        /// The archive's file name inside the directory.
        public var file: String
        public var createdAt: Date
        public var sizeBytes: Int64
        /// The archive's SHA-256 (as in `FILE.sha256`).
        public var sha256: String
        public var manifest: SnapshotManifest
        public var verification: Verification
    }

    public struct Verification: Codable, Sendable, Equatable {
        public var at: Date
        public var ok: Bool
        /// What the checks said (or which one failed, and why).
        public var detail: String
    }

    public var formatVersion = BackupCatalog.currentFormatVersion
    /// Newest last.
    public var snapshots: [Entry] = []
    /// The last `cairn snapshot audit` (absent until one ran).
    public var lastAudit: AuditRecord?
    /// The last restore drill, and the last one that passed.
    public var lastDrill: DrillRecord?
    public var lastSuccessfulDrill: DrillRecord?

    public init() {}

    public static func path(in directory: String) -> String { directory + "/" + fileName }

    /// The catalog of `directory`, empty when it has none yet.
    public static func load(from directory: String) throws -> BackupCatalog {
        let path = path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else { return BackupCatalog() }
        let catalog: BackupCatalog
        do {
            catalog = try decoder.decode(BackupCatalog.self, from: data)
        } catch {
            throw SchedulerError(.catalog, "\(path) does not decode: \(error); move it aside to start a new catalog")
        }
        guard catalog.formatVersion == currentFormatVersion else {
            throw SchedulerError(.catalog,
                "\(path) has format version \(catalog.formatVersion); this cairn reads version \(currentFormatVersion)")
        }
        return catalog
    }

    /// Writes the catalog atomically: a crash leaves the old one or the new one, never half.
    public func save(to directory: String) throws {
        try AtomicFile.write(try encoded(), to: Self.path(in: directory))
    }

    /// The catalog as `index.json` holds it (and `cairn snapshot list -w json` prints it).
    public func encoded() throws -> Data { try Self.encoder.encode(self) }

    /// The newest snapshot that passed verification.
    public var newestVerified: Entry? { snapshots.last { $0.verification.ok } }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
