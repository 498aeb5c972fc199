import Storage
import Foundation

/// Reads and writes the journal file, atomically and durably.
struct JournalStore: Sendable {
    let path: String

    func load() throws -> RunbookJournal? {
        guard let data = try FileSystem.read(path) else { return nil }
        let journal: RunbookJournal
        do {
            journal = try Self.decoder.decode(RunbookJournal.self, from: data)
        } catch {
            throw RunbookError(.journalMismatch, "the journal \(path) is not readable (\(error)); move it away only if no run is in progress")
        }
        guard journal.version == RunbookJournal.formatVersion else {
            throw RunbookError(.journalMismatch, "the journal \(path) has format version \(journal.version); this cairn reads version \(RunbookJournal.formatVersion)")
        }
        return journal
    }

    /// Writes `journal` and reads it back: a journal that would not load is worse than none.
    func save(_ journal: RunbookJournal) throws {
        let data = try Self.encoder.encode(journal)
        try FileSystem.writeAtomically(data, to: path, temporaryDirectory: PathText.parent(of: path))
        guard let readBack = try load(), try Self.encoder.encode(readBack) == data else {
            throw RunbookError(.fileSystem, "the journal \(path) read back differs from what was written")
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
