import Foundation
import Raft
import XCTest
@testable import Storage
import TestSupport

final class WALTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory?.remove()
    }

    private var walPath: String { directory.file("wal") }

    private func entry(_ index: UInt64, term: UInt64 = 1, size: Int = 16) -> Entry {
        Entry(term: term, index: index, data: Array(repeating: UInt8(truncatingIfNeeded: index), count: size))
    }

    private func segmentFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: walPath).filter { $0.hasSuffix(".wal") }.sorted()
            .map { walPath + "/" + $0 }
    }

    /// Appends entries 1...`entries`, one append each, and closes the WAL.
    private func fill(entries: Int, size: Int = 100, options: WALOptions = WALOptions()) async throws {
        let (wal, _) = try WAL.open(directory: walPath, options: options)
        for index in 1...entries {
            try await wal.append([.entry(entry(UInt64(index), size: size))])
        }
        wal.close()
    }

    private func reopen(_ options: WALOptions = WALOptions()) throws -> WALReplay {
        let (wal, replay) = try WAL.open(directory: walPath, options: options)
        wal.close()
        return replay
    }

    private func assertCorrupt(_ options: WALOptions = WALOptions(), file: StaticString = #filePath, line: UInt = #line, _ check: (StorageError) -> Void) {
        XCTAssertThrowsError(try WAL.open(directory: walPath, options: options), file: file, line: line) { error in
            guard let error = error as? StorageError else { return XCTFail("unexpected \(error)", file: file, line: line) }
            XCTAssertEqual(error.code, .walCorrupt, file: file, line: line)
            check(error)
        }
    }

    /// Opens the file and overwrites bytes at `offset`.
    private func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    private func read(_ path: String, at offset: Int, count: Int) throws -> [UInt8] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        return Array(data[offset..<offset + count])
    }

    func testRecordsReplayInOrderWithMetadata() async throws {
        let (wal, first) = try WAL.open(directory: walPath, options: WALOptions(metadata: Array("member-1".utf8)))
        XCTAssertEqual(first.entries, [])
        let confState = ConfState(voters: [1, 2, 3], learners: [4])
        try await wal.append([.entry(entry(1)), .entry(entry(2)), .hardState(HardState(term: 1, vote: 1, commit: 1))])
        try await wal.append([
            .snapshot(SnapshotMetadata(index: 1, term: 1, confState: confState)),
            .entry(entry(3, term: 2)), .hardState(HardState(term: 2, vote: 2, commit: 3)),
        ])
        wal.close()
        let replay = try reopen()
        XCTAssertEqual(replay.metadata, Array("member-1".utf8))
        XCTAssertEqual(replay.snapshot, SnapshotMetadata(index: 1, term: 1, confState: confState))
        XCTAssertEqual(replay.entries, [entry(2), entry(3, term: 2)])
        XCTAssertEqual(replay.hardState, HardState(term: 2, vote: 2, commit: 3))
        XCTAssertEqual(replay.lastIndex, 3)
        XCTAssertNil(replay.tornTail)
    }

    func testALaterEntryReplacesTheTailFromItsIndex() async throws {
        let (wal, _) = try WAL.open(directory: walPath)
        try await wal.append((1...5).map { .entry(entry($0)) })
        try await wal.append([.entry(entry(3, term: 2)), .entry(entry(4, term: 2))])
        wal.close()
        XCTAssertEqual(try reopen().entries, [entry(1), entry(2), entry(3, term: 2), entry(4, term: 2)])
    }

    func testConcurrentAppendsAreAllDurableAndKeepTheirOrder() async throws {
        let (wal, _) = try WAL.open(directory: walPath)
        let writers = 64
        // Each writer appends its own two-record group; replay must show every group intact.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    try await wal.append([
                        .hardState(HardState(term: UInt64(writer), vote: 0, commit: 0)),
                        .hardState(HardState(term: UInt64(writer), vote: 1, commit: 0)),
                    ])
                }
            }
            try await group.waitForAll()
        }
        wal.close()
        var seen: [UInt64] = []
        let bytes = try Array(XCTUnwrap(FileManager.default.contents(atPath: segmentFiles()[0])))
        _ = try WALSegment.scan(bytes, path: "segment", isLast: true) { record, _ in
            guard case .hardState(let state) = record else { return }
            seen.append(state.term * 2 + state.vote)
        }
        XCTAssertEqual(seen.count, writers * 2)
        for pair in stride(from: 0, to: seen.count, by: 2) {
            XCTAssertEqual(seen[pair] + 1, seen[pair + 1], "records of one append stay together")
        }
        XCTAssertEqual(Set(seen.map { $0 / 2 }), Set((0..<UInt64(writers))))
    }

    func testSegmentsRotateAndReplayAcrossFiles() async throws {
        let options = WALOptions(segmentSizeBytes: 4096)
        let (wal, _) = try WAL.open(directory: walPath, options: options)
        for index in 1...200 {
            try await wal.append([.entry(entry(UInt64(index), size: 100)), .hardState(HardState(term: 1, commit: UInt64(index)))])
        }
        wal.close()
        XCTAssertGreaterThan(try segmentFiles().count, 5)
        let replay = try reopen(options)
        XCTAssertEqual(replay.entries.map(\.index), Array(1...200))
        XCTAssertEqual(replay.hardState.commit, 200)
    }

    func testSegmentsBeforeTheSnapshotAreReleased() async throws {
        let options = WALOptions(segmentSizeBytes: 4096)
        var (wal, _) = try WAL.open(directory: walPath, options: options)
        for index in 1...100 {
            try await wal.append([.entry(entry(UInt64(index), size: 100))])
        }
        try await wal.append([.hardState(HardState(term: 1, vote: 1, commit: 100))])
        let releasedWithoutMarker = try await wal.releaseSegments()
        XCTAssertEqual(releasedWithoutMarker, [], "nothing is released without a snapshot marker")
        let before = try segmentFiles()
        try await wal.append([.snapshot(SnapshotMetadata(index: 60, term: 1, confState: ConfState(voters: [1])))])
        let released = try await wal.releaseSegments()
        XCTAssertFalse(released.isEmpty)
        XCTAssertEqual(try segmentFiles(), Array(before.dropFirst(released.count)))
        XCTAssertEqual(released, Array(before.prefix(released.count)))
        wal.close()

        var replay = try reopen(options)
        XCTAssertEqual(replay.snapshot.index, 60)
        XCTAssertEqual(replay.entries.map(\.index), Array(61...100))
        XCTAssertEqual(replay.hardState, HardState(term: 1, vote: 1, commit: 100))

        (wal, replay) = try WAL.open(directory: walPath, options: options)
        try await wal.append([.entry(entry(101))])
        wal.close()
        XCTAssertEqual(try reopen(options).entries.map(\.index), Array(61...101))
    }

    func testATornTailIsTruncatedAndTheWALStaysUsable() async throws {
        try await fill(entries: 10, size: 2000)
        // Entry 10's frame is the last 2,033 bytes of data; zero its second half, as a crash
        // before the page reached the disk would.
        let segment = try segmentFiles()[0]
        let frameSize = 8 + 1 + 17 + 2000
        let dataEnd = try endOfData(segment)
        try overwrite(segment, at: dataEnd - frameSize / 2, with: [UInt8](repeating: 0, count: frameSize / 2))

        let (reopened, replay) = try WAL.open(directory: walPath)
        XCTAssertEqual(replay.entries.map(\.index), Array(1...9))
        XCTAssertEqual(replay.tornTail?.segmentPath, segment)
        XCTAssertEqual(replay.tornTail?.offset, dataEnd - frameSize)
        try await reopened.append([.entry(entry(10, term: 2))])
        reopened.close()
        let again = try reopen()
        XCTAssertNil(again.tornTail)
        XCTAssertEqual(again.entries.last, entry(10, term: 2))
    }

    func testAFrameCutOffByTheEndOfTheFileIsATornTail() async throws {
        let (wal, _) = try WAL.open(directory: walPath, options: WALOptions(segmentSizeBytes: 1024))
        try await wal.append([.entry(entry(1, size: 3000))])
        wal.close()
        let segment = try segmentFiles()[0]
        XCTAssertEqual(truncate(segment, 2000), 0)
        let replay = try reopen()
        XCTAssertEqual(replay.entries, [])
        XCTAssertNotNil(replay.tornTail)
    }

    func testCorruptionInsideTheLogIsReportedWithSegmentAndOffset() async throws {
        var offsets: [Int] = []
        try await fill(entries: 10)
        let segment = try segmentFiles()[0]
        _ = try WALSegment.scan(Array(XCTUnwrap(FileManager.default.contents(atPath: segment))), path: segment, isLast: true) {
            _, offset in offsets.append(offset)
        }
        let victim = offsets[4]
        let original = try read(segment, at: victim + 40, count: 1)
        try overwrite(segment, at: victim + 40, with: [original[0] ^ 0x01])
        assertCorrupt { error in
            XCTAssertTrue(error.message.contains(segment), error.message)
            XCTAssertTrue(error.message.contains("offset \(victim)"), error.message)
            XCTAssertTrue(error.message.contains("checksum mismatch"), error.message)
        }
        // The damaged segment is left as it was, for an operator to inspect.
        XCTAssertEqual(try read(segment, at: victim + 40, count: 1), [original[0] ^ 0x01])
    }

    func testCorruptionInAnEarlierSegmentIsAnErrorEvenWithZeros() async throws {
        let options = WALOptions(segmentSizeBytes: 4096)
        try await fill(entries: 100, options: options)
        let first = try segmentFiles()[0]
        // Zeroing a whole sector would pass for a torn tail in the last segment; here it must not.
        try overwrite(first, at: 1024, with: [UInt8](repeating: 0, count: 512))
        assertCorrupt(options) { error in
            XCTAssertTrue(error.message.contains(first), error.message)
        }
    }

    func testAMissingSegmentIsReported() async throws {
        let options = WALOptions(segmentSizeBytes: 4096)
        try await fill(entries: 100, options: options)
        let files = try segmentFiles()
        XCTAssertGreaterThan(files.count, 3)
        try FileManager.default.removeItem(atPath: files[1])
        assertCorrupt(options) { error in
            XCTAssertTrue(error.message.contains("missing"), error.message)
        }
    }

    func testASealedLastSegmentGetsASuccessorOnOpen() async throws {
        let options = WALOptions(segmentSizeBytes: 4096)
        try await fill(entries: 100, options: options)
        // A crash between sealing a segment and creating the next leaves the sealed one last.
        let last = try XCTUnwrap(segmentFiles().last)
        try FileManager.default.removeItem(atPath: last)
        let replay = try reopen(options)
        XCTAssertEqual(replay.entries.first?.index, 1)
        XCTAssertEqual(try segmentFiles().last, last)
        XCTAssertEqual(try reopen(options).entries, replay.entries)
    }

    func testAppendsAfterCloseFail() async throws {
        let (wal, _) = try WAL.open(directory: walPath)
        wal.close()
        do {
            try await wal.append([.entry(entry(1))])
            XCTFail("an append after close must fail")
        } catch {
            XCTAssertEqual(error.code, .closed)
        }
    }

    /// The offset just past the last frame of a segment.
    private func endOfData(_ path: String) throws -> Int {
        let bytes = try Array(XCTUnwrap(FileManager.default.contents(atPath: path)))
        let (_, end) = try WALSegment.scan(bytes, path: path, isLast: true) { _, _ in }
        guard case .open(let offset) = end else { throw StorageError(.walCorrupt, "unexpected end \(end)") }
        return offset
    }
}
