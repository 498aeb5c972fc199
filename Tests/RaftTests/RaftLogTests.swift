import XCTest
@testable import Raft

final class RaftLogTests: XCTestCase {
    /// Stable entries 2...4 of term 2 after the bootstrap snapshot at 1, committed up to 1.
    private func log(stable: LogIndex = 4) -> RaftLog {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1]))
        storage.append((2...stable).map { Entry(term: 2, index: $0) })
        return RaftLog(storage: storage, maxCommittedSizePerReadyBytes: .max)
    }

    func testStartsCommittedAndAppliedAtTheSnapshot() {
        let log = log()
        XCTAssertEqual(log.committed, 1)
        XCTAssertEqual(log.applied, 1)
        XCTAssertEqual(log.firstIndex, 2)
        XCTAssertEqual(log.lastIndex, 4)
        XCTAssertEqual(log.lastTerm, 2)
    }

    func testIsUpToDateComparesLastTermThenLength() {
        let log = log()
        XCTAssertTrue(log.isUpToDate(index: 1, term: 3))
        XCTAssertTrue(log.isUpToDate(index: 4, term: 2))
        XCTAssertTrue(log.isUpToDate(index: 5, term: 2))
        XCTAssertFalse(log.isUpToDate(index: 3, term: 2))
        XCTAssertFalse(log.isUpToDate(index: 9, term: 1))
    }

    func testFindConflictReturnsFirstMismatchOrNewEntry() {
        let log = log()
        XCTAssertEqual(log.findConflict([Entry(term: 2, index: 2), Entry(term: 2, index: 3)]), 0)
        XCTAssertEqual(log.findConflict([Entry(term: 2, index: 3), Entry(term: 3, index: 4)]), 4)
        XCTAssertEqual(log.findConflict([Entry(term: 2, index: 4), Entry(term: 2, index: 5)]), 5)
    }

    func testMaybeAppendRejectsWhenThePreviousEntryDiffers() {
        var log = log()
        XCTAssertNil(log.maybeAppend(index: 3, logTerm: 3, committed: 3, entries: [Entry(term: 3, index: 4)]))
        XCTAssertNil(log.maybeAppend(index: 5, logTerm: 2, committed: 3, entries: []))
        XCTAssertEqual(log.lastIndex, 4)
        XCTAssertEqual(log.committed, 1)
    }

    func testMaybeAppendTruncatesFromTheFirstConflict() throws {
        var log = log()
        let lastNew = log.maybeAppend(index: 2, logTerm: 2, committed: 2, entries: [Entry(term: 3, index: 3)])
        XCTAssertEqual(lastNew, 3)
        XCTAssertEqual(log.lastIndex, 3, "entry 4 followed the conflict and is gone")
        XCTAssertEqual(try log.term(at: 3), 3)
        XCTAssertEqual(log.committed, 2)
    }

    func testMaybeAppendCommitsNoFurtherThanTheLastNewEntry() {
        var log = log()
        XCTAssertEqual(log.maybeAppend(index: 2, logTerm: 2, committed: 10, entries: []), 2)
        XCTAssertEqual(log.committed, 2, "entries past 2 were not confirmed by this append")
    }

    func testCommitNeverMovesBackwards() {
        var log = log()
        log.commit(to: 3)
        log.commit(to: 2)
        XCTAssertEqual(log.committed, 3)
    }

    func testMaybeCommitRequiresAnEntryOfTheGivenTerm() {
        var log = log()
        XCTAssertFalse(log.maybeCommit(index: 4, term: 3))
        XCTAssertEqual(log.committed, 1)
        XCTAssertTrue(log.maybeCommit(index: 4, term: 2))
        XCTAssertEqual(log.committed, 4)
    }

    func testFindConflictByTermSkipsEntriesOfLaterTerms() {
        var log = log()
        log.append([Entry(term: 4, index: 5), Entry(term: 4, index: 6), Entry(term: 5, index: 7)])
        XCTAssertEqual(log.findConflictByTerm(index: 7, term: 3).index, 4)
        XCTAssertEqual(log.findConflictByTerm(index: 7, term: 3).term, 2)
        XCTAssertEqual(log.findConflictByTerm(index: 7, term: 4).index, 6)
        XCTAssertEqual(log.findConflictByTerm(index: 7, term: 9).index, 7)
        XCTAssertEqual(log.findConflictByTerm(index: 3, term: 1).index, 1)
    }

    func testSliceSpansStableAndUnstableEntries() throws {
        var log = log()
        log.append([Entry(term: 3, index: 5), Entry(term: 3, index: 6)])
        XCTAssertEqual(try log.slice(from: 3, to: 7, maxSizeBytes: .max).map(\.index), [3, 4, 5, 6])
        XCTAssertEqual(try log.slice(from: 3, to: 7, maxSizeBytes: 50).map(\.index), [3, 4])
        XCTAssertEqual(log.unstableEntries.map(\.index), [5, 6])
    }

    func testUnstableTailOverridesTheStableLogAfterATruncation() throws {
        var log = log()
        log.append([Entry(term: 3, index: 3)])
        XCTAssertEqual(log.lastIndex, 3)
        XCTAssertEqual(try log.term(at: 3), 3)
        XCTAssertThrowsError(try log.term(at: 4), "storage still holds a stale entry 4")
        XCTAssertEqual(try log.slice(from: 2, to: 4, maxSizeBytes: .max).map(\.term), [2, 3])
    }

    func testNextCommittedEntriesStartAfterAppliedAndRespectTheByteLimit() {
        let storage = MemoryStorage(bootstrap: ConfState(voters: [1]))
        storage.append((2...5).map { Entry(term: 2, index: $0, data: [1, 2, 3, 4]) })
        var log = RaftLog(storage: storage, maxCommittedSizePerReadyBytes: 60)
        log.commit(to: 5)
        XCTAssertEqual(log.nextCommittedEntries().map(\.index), [2, 3])
        log.applied(to: 3)
        XCTAssertEqual(log.nextCommittedEntries().map(\.index), [4, 5])
        log.applied(to: 5)
        XCTAssertFalse(log.hasNextCommittedEntries)
    }

    func testRestoringASnapshotCommitsItAndHidesOlderEntries() {
        var log = log()
        log.restore(Snapshot(metadata: SnapshotMetadata(index: 10, term: 4, confState: ConfState(voters: [1]))))
        XCTAssertEqual(log.committed, 10)
        XCTAssertEqual(log.firstIndex, 11)
        XCTAssertEqual(log.lastIndex, 10)
        XCTAssertEqual(log.lastTerm, 4)
        XCTAssertFalse(log.hasNextCommittedEntries)
    }

    func testUnstableEntriesBecomeStableOnlyIfTheTermStillMatches() {
        var unstable = UnstableLog(offset: 5)
        unstable.truncateAndAppend([Entry(term: 2, index: 5), Entry(term: 2, index: 6)])
        unstable.truncateAndAppend([Entry(term: 3, index: 6)])
        unstable.stable(to: 6, term: 2)
        XCTAssertEqual(unstable.entries.map(\.term), [2, 3], "entry 6 was replaced before it was persisted")
        unstable.stable(to: 5, term: 2)
        XCTAssertEqual(unstable.offset, 6)
        XCTAssertEqual(unstable.entries.map(\.index), [6])
    }
}
