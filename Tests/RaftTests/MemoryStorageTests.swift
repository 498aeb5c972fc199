import XCTest
@testable import Raft

final class MemoryStorageTests: XCTestCase {
    private func storage(lastIndex: LogIndex) -> MemoryStorage {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1]))
        storage.append((2...lastIndex).map { Entry(term: 2, index: $0, data: [UInt8($0)]) })
        return storage
    }

    func testBootstrapLooksLikeASnapshotAtIndexOne() throws {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1, 2]))
        XCTAssertEqual(storage.firstIndex(), 2)
        XCTAssertEqual(storage.lastIndex(), 1)
        XCTAssertEqual(try storage.term(at: 1), 1)
        let (hardState, confState) = storage.initialState()
        XCTAssertEqual(hardState, HardState(term: 1, vote: .none, commit: 1))
        XCTAssertEqual(confState.voters, [1, 2])
    }

    func testAppendOverwritesAConflictingTail() throws {
        let storage = storage(lastIndex: 6)
        storage.append([Entry(term: 3, index: 4), Entry(term: 3, index: 5)])
        XCTAssertEqual(storage.lastIndex(), 5)
        XCTAssertEqual(try storage.term(at: 3), 2)
        XCTAssertEqual(try storage.term(at: 4), 3)
    }

    func testAppendSkipsEntriesAlreadyCompacted() throws {
        let storage = storage(lastIndex: 6)
        try storage.compact(upTo: 4)
        storage.append([Entry(term: 2, index: 3), Entry(term: 2, index: 4), Entry(term: 3, index: 5)])
        XCTAssertEqual(storage.firstIndex(), 5)
        XCTAssertEqual(storage.lastIndex(), 5)
        XCTAssertEqual(try storage.term(at: 5), 3)
        storage.append([Entry(term: 2, index: 2)])
        XCTAssertEqual(storage.lastIndex(), 5, "entirely compacted entries are ignored")
    }

    func testEntriesHonourRangeAndSizeButReturnAtLeastOne() throws {
        let storage = storage(lastIndex: 6)
        XCTAssertEqual(try storage.entries(from: 3, to: 6, maxSizeBytes: .max).map(\.index), [3, 4, 5])
        XCTAssertEqual(try storage.entries(from: 3, to: 6, maxSizeBytes: 0).map(\.index), [3])
        XCTAssertEqual(try storage.entries(from: 3, to: 6, maxSizeBytes: 50).map(\.index), [3, 4])
        XCTAssertEqual(try storage.entries(from: 4, to: 4, maxSizeBytes: .max), [])
    }

    func testReadsOutsideTheLogFailWithStableCodes() {
        let storage = storage(lastIndex: 6)
        XCTAssertThrowsError(try storage.entries(from: 1, to: 3, maxSizeBytes: .max)) {
            XCTAssertEqual(($0 as? RaftError)?.code, .compacted)
        }
        XCTAssertThrowsError(try storage.entries(from: 5, to: 9, maxSizeBytes: .max)) {
            XCTAssertEqual(($0 as? RaftError)?.code, .unavailable)
        }
        XCTAssertThrowsError(try storage.term(at: 7)) { XCTAssertEqual(($0 as? RaftError)?.code, .unavailable) }
    }

    func testCompactionKeepsTheTermOfTheLastCompactedEntry() throws {
        let storage = storage(lastIndex: 6)
        try storage.compact(upTo: 4)
        XCTAssertEqual(storage.firstIndex(), 5)
        XCTAssertEqual(try storage.term(at: 4), 2)
        XCTAssertThrowsError(try storage.term(at: 3)) { XCTAssertEqual(($0 as? RaftError)?.code, .compacted) }
        XCTAssertThrowsError(try storage.compact(upTo: 4)) { XCTAssertEqual(($0 as? RaftError)?.code, .compacted) }
    }

    func testCreateSnapshotRecordsTermAndRefusesOlderOnes() throws {
        let storage = storage(lastIndex: 6)
        let snapshot = try storage.createSnapshot(at: 5, confState: ConfState(voters: [1]), data: [42])
        XCTAssertEqual(snapshot.metadata.term, 2)
        XCTAssertEqual(storage.snapshot(), snapshot)
        XCTAssertEqual(storage.lastIndex(), 6, "creating a snapshot does not compact")
        XCTAssertThrowsError(try storage.createSnapshot(at: 4, confState: ConfState(), data: [])) {
            XCTAssertEqual(($0 as? RaftError)?.code, .snapshotOutOfDate)
        }
    }

    func testApplySnapshotReplacesTheWholeLog() throws {
        let storage = storage(lastIndex: 6)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 20, term: 5, confState: ConfState(voters: [1, 2])))
        try storage.applySnapshot(snapshot)
        XCTAssertEqual(storage.firstIndex(), 21)
        XCTAssertEqual(storage.lastIndex(), 20)
        XCTAssertEqual(try storage.term(at: 20), 5)
        XCTAssertEqual(storage.initialState().1.voters, [1, 2])
        XCTAssertThrowsError(try storage.applySnapshot(snapshot)) {
            XCTAssertEqual(($0 as? RaftError)?.code, .snapshotOutOfDate)
        }
    }
}
