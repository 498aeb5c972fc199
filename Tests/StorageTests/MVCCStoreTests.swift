import Foundation
import XCTest
@testable import Storage
import TestSupport

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

final class MVCCStoreTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: MVCCStore!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try MVCCStore(path: directory.file("db"))
    }

    override func tearDown() {
        store?.close()
        directory?.remove()
    }

    @discardableResult
    private func put(_ key: String, _ value: String, lease: Int64 = 0) async throws -> PutResponse {
        try await store.write { txn in try txn.put(PutRequest(key: bytes(key), value: bytes(value), lease: lease)) }
    }

    private func values(_ response: RangeResponse) -> [String] {
        response.kvs.map { String(decoding: $0.value, as: UTF8.self) }
    }

    private func keys(_ response: RangeResponse) -> [String] {
        response.kvs.map { String(decoding: $0.key, as: UTF8.self) }
    }

    func testAFreshStoreIsAtRevisionOneLikeEtcd() async throws {
        XCTAssertEqual(try store.status().revision, 1)
        XCTAssertEqual(try store.status().compactRevision, 0)
        let empty = try store.range(RangeRequest(key: [0], rangeEnd: [0]))
        XCTAssertEqual(empty.revision, 1)
        XCTAssertEqual(empty.kvs, [])
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: 1)).kvs, [])
        XCTAssertThrowsError(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: 2))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .futureRevision)
        }
        XCTAssertEqual(try store.events(from: 1), [])
        let hash = try store.hashKV()
        XCTAssertEqual(hash.revision, 1)
        XCTAssertEqual(hash.keyCount, 0)

        try await store.write { txn in try txn.compact(revision: 1) }
        try await store.waitForCompaction()
        XCTAssertEqual(try store.status().compactRevision, 1)
        XCTAssertEqual(try store.status().revision, 1, "compaction does not advance the revision")
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: 1)).kvs, [])
        XCTAssertEqual(try store.hashKV(revision: 1).hash, hash.hash, "compacting an empty history keeps nothing less")

        let first = try await put("a", "1")
        XCTAssertEqual(first.revision, 2)
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: 1)).kvs, [])
        XCTAssertEqual(try store.events(from: 1).map(\.kv.modRevision), [2])
    }

    func testPutsAdvanceTheRevisionAndTrackVersions() async throws {
        let first = try await put("a", "1")
        let second = try await put("b", "1")
        XCTAssertEqual(first.revision, 2)
        XCTAssertEqual(second.revision, 3)
        let third = try await store.write { txn in
            try txn.put(PutRequest(key: bytes("a"), value: bytes("2"), prevKV: true))
        }
        XCTAssertEqual(third.revision, 4)
        XCTAssertEqual(third.prevKV?.value, bytes("1"))
        let kv = try XCTUnwrap(store.range(RangeRequest(key: bytes("a"))).kvs.first)
        XCTAssertEqual(kv, KeyValue(key: bytes("a"), createRevision: 2, modRevision: 4, version: 2, value: bytes("2")))
        XCTAssertEqual(try store.status().revision, 4)
    }

    func testRangeAtAnOldRevisionSeesThatRevision() async throws {
        try await put("a", "1")
        try await put("a", "2")
        try await store.write { txn in try txn.deleteRange(DeleteRangeRequest(key: bytes("a"))) }
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("a"), revision: 2))), ["1"])
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("a"), revision: 3))), ["2"])
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("a"))).kvs, [])
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("a"))).revision, 4)
        XCTAssertThrowsError(try store.range(RangeRequest(key: bytes("a"), revision: 5))) { error in
            XCTAssertEqual((error as? StorageError)?.message, "etcdserver: mvcc: required revision is a future revision")
        }
    }

    func testRangeOptionsFollowEtcd() async throws {
        for (key, value) in [("a", "3"), ("b", "1"), ("b/1", "2"), ("b/2", "5"), ("c", "4"), ("d\u{0}", "0")] {
            try await put(key, value)
        }
        try await put("b/1", "6")
        XCTAssertEqual(keys(try store.range(RangeRequest(key: bytes("b/"), rangeEnd: bytes("b0")))), ["b/1", "b/2"])
        XCTAssertEqual(keys(try store.range(RangeRequest(key: bytes("c"), rangeEnd: [0]))), ["c", "d\u{0}"])
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0])).count, 6)

        let limited = try store.range(RangeRequest(key: [0], rangeEnd: [0], limit: 2))
        XCTAssertEqual(keys(limited), ["a", "b"])
        XCTAssertTrue(limited.more)
        XCTAssertEqual(limited.count, 6)
        XCTAssertFalse(try store.range(RangeRequest(key: [0], rangeEnd: [0], limit: 6)).more)

        let countOnly = try store.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true))
        XCTAssertEqual(countOnly.kvs, [])
        XCTAssertEqual(countOnly.count, 6)
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("a"), keysOnly: true))), [""])

        let byValue = try store.range(RangeRequest(key: [0], rangeEnd: [0], sortOrder: .descend, sortTarget: .value))
        XCTAssertEqual(values(byValue), ["6", "5", "4", "3", "1", "0"])
        let byModAscendingByDefault = try store.range(RangeRequest(key: [0], rangeEnd: [0], limit: 2, sortTarget: .mod))
        XCTAssertEqual(keys(byModAscendingByDefault), ["a", "b"])
        XCTAssertTrue(byModAscendingByDefault.more)
        XCTAssertEqual(keys(try store.range(RangeRequest(key: [0], rangeEnd: [0], sortOrder: .descend))).first, "d\u{0}")

        let filtered = try store.range(
            RangeRequest(key: [0], rangeEnd: [0], minModRevision: 4, maxCreateRevision: 6))
        XCTAssertEqual(keys(filtered), ["b/1", "b/2", "c"])
        XCTAssertEqual(filtered.count, 6, "etcd counts before filtering")
        XCTAssertEqual(keys(try store.range(RangeRequest(key: [0], rangeEnd: [0], minCreateRevision: 7))), ["d\u{0}"])
        XCTAssertEqual(keys(try store.range(RangeRequest(key: [0], rangeEnd: [0], maxModRevision: 2))), ["a"])
    }

    func testDeleteLeavesATombstoneAndRecreationStartsANewGeneration() async throws {
        try await put("k", "1")
        try await put("k", "2")
        let deleted = try await store.write { txn in
            try txn.deleteRange(DeleteRangeRequest(key: bytes("k"), prevKV: true))
        }
        XCTAssertEqual(deleted.deleted, 1)
        XCTAssertEqual(deleted.revision, 4)
        XCTAssertEqual(deleted.prevKVs.map(\.value), [bytes("2")])
        let nothing = try await store.write { txn in try txn.deleteRange(DeleteRangeRequest(key: bytes("k"))) }
        XCTAssertEqual(nothing.deleted, 0)
        XCTAssertEqual(nothing.revision, 4, "a delete of nothing does not advance the revision")
        try await put("k", "3")
        let kv = try XCTUnwrap(store.range(RangeRequest(key: bytes("k"))).kvs.first)
        XCTAssertEqual(kv.createRevision, 5)
        XCTAssertEqual(kv.version, 1)
        let events = try store.events(from: 2)
        XCTAssertEqual(events.map(\.kind), [.put, .put, .delete, .put])
        XCTAssertEqual(events[2].kv, KeyValue(key: bytes("k"), modRevision: 4))
    }

    func testTxnComparesChooseABranchAndAllWritesShareOneRevision() async throws {
        try await put("x", "1")
        let request = TxnRequest(
            compare: [
                Compare(key: bytes("x"), result: .equal, target: .value(bytes("1"))),
                Compare(key: bytes("y"), result: .equal, target: .version(0)),
                Compare(key: bytes("x"), rangeEnd: bytes("z"), result: .greater, target: .createRevision(0)),
            ],
            success: [
                .put(PutRequest(key: bytes("y"), value: bytes("a"))),
                .range(RangeRequest(key: bytes("y"))),
                .deleteRange(DeleteRangeRequest(key: bytes("x"))),
                .txn(TxnRequest(
                    compare: [Compare(key: bytes("y"), result: .equal, target: .version(0))],
                    success: [.put(PutRequest(key: bytes("inner-success"), value: bytes("!")))],
                    failure: [.put(PutRequest(key: bytes("inner-failure"), value: bytes("!")))])),
            ],
            failure: [.put(PutRequest(key: bytes("never"), value: bytes("!")))])
        let response = try await store.write { txn in try txn.txn(request) }
        XCTAssertTrue(response.succeeded)
        XCTAssertEqual(response.revision, 3)
        guard case .range(let inner) = response.responses[1], case .txn(let nested) = response.responses[3] else {
            return XCTFail("unexpected responses \(response.responses)")
        }
        XCTAssertEqual(values(inner), ["a"], "a range inside a txn sees the txn's earlier writes")
        XCTAssertEqual(inner.revision, 3)
        XCTAssertTrue(nested.succeeded, "nested compares see the state before the txn")
        XCTAssertEqual(keys(try store.range(RangeRequest(key: [0], rangeEnd: [0]))), ["inner-success", "y"])
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("y"))).kvs.first?.modRevision, 3)
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("inner-success"))).kvs.first?.modRevision, 3)

        let failed = try await store.write { txn in
            try txn.txn(TxnRequest(
                compare: [Compare(key: bytes("missing"), result: .equal, target: .value([]))],
                success: [], failure: [.range(RangeRequest(key: bytes("y")))]))
        }
        XCTAssertFalse(failed.succeeded, "a value compare against a missing key is false")
        XCTAssertEqual(failed.revision, 3, "a txn that writes nothing keeps the revision")
    }

    func testFailedTxnLeavesNoTrace() async throws {
        try await put("a", "1")
        do {
            _ = try await store.write { txn in
                try txn.txn(TxnRequest(success: [
                    .put(PutRequest(key: bytes("b"), value: bytes("2"))),
                    .put(PutRequest(key: bytes("c"), value: bytes("3"), lease: 99)),
                ]))
            }
            XCTFail("a put with an unknown lease must fail")
        } catch {
            XCTAssertEqual((error as? StorageError)?.message, "etcdserver: requested lease not found")
        }
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("b"))).kvs, [])
        XCTAssertEqual(try store.status().revision, 2)
    }

    func testPutOptionsIgnoreValueAndLease() async throws {
        try await store.write { txn in try txn.grantLease(LeaseRecord(id: 7, ttlSeconds: 30)) }
        try await put("k", "v", lease: 7)
        let kept = try await store.write { txn in
            try txn.put(PutRequest(key: bytes("k"), value: bytes("w"), ignoreLease: true))
        }
        XCTAssertEqual(kept.revision, 3)
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("k"))).kvs.first?.lease, 7)
        try await store.write { txn in try txn.put(PutRequest(key: bytes("k"), ignoreValue: true)) }
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("k")))), ["w"])
        XCTAssertEqual(try store.keys(attachedTo: 7), [], "a put without ignoreLease detaches the old lease")
        for (request, message) in [
            (PutRequest(key: bytes("absent"), ignoreValue: true), "etcdserver: key not found"),
            (PutRequest(key: bytes("k"), value: bytes("x"), ignoreValue: true), "etcdserver: value is provided"),
            (PutRequest(key: bytes("k"), lease: 7, ignoreLease: true), "etcdserver: lease is provided"),
            (PutRequest(key: [UInt8](repeating: 1, count: 600)), nil),
        ] {
            do {
                _ = try await store.write { txn in try txn.put(request) }
                XCTFail("expected \(message ?? "key too large")")
            } catch {
                if let message { XCTAssertEqual((error as? StorageError)?.message, message) } else { XCTAssertEqual((error as? StorageError)?.code, .keyTooLarge) }
            }
        }
    }

    func testRevokingALeaseDeletesItsKeysAtOneRevision() async throws {
        try await store.write { txn in
            try txn.grantLease(LeaseRecord(id: 1, ttlSeconds: 10))
            try txn.grantLease(LeaseRecord(id: 2, ttlSeconds: 20))
        }
        try await put("a", "1", lease: 1)
        try await put("b", "1", lease: 1)
        try await put("c", "1", lease: 2)
        XCTAssertEqual(try store.keys(attachedTo: 1), [bytes("a"), bytes("b")])
        XCTAssertEqual(try store.leases(), [LeaseRecord(id: 1, ttlSeconds: 10), LeaseRecord(id: 2, ttlSeconds: 20)])
        let revoked = try await store.write { txn in try txn.revokeLease(id: 1) }
        XCTAssertEqual(revoked, [bytes("a"), bytes("b")])
        XCTAssertEqual(keys(try store.range(RangeRequest(key: [0], rangeEnd: [0]))), ["c"])
        XCTAssertEqual(try store.events(from: 5).map(\.kv.modRevision), [5, 5])
        XCTAssertNil(try store.lease(id: 1))
        do {
            try await store.write { txn in try txn.grantLease(LeaseRecord(id: 2, ttlSeconds: 5)) }
            XCTFail("granting an existing lease must fail")
        } catch {
            XCTAssertEqual((error as? StorageError)?.message, "etcdserver: lease already exists")
        }
    }

    func testCompactionDropsHistoryButKeepsTheNewestVersion() async throws {
        try await put("a", "1")
        try await put("a", "2")
        try await put("b", "1")
        try await store.write { txn in try txn.deleteRange(DeleteRangeRequest(key: bytes("b"))) }
        try await put("a", "3")
        try await store.write { txn in try txn.compact(revision: 5) }
        try await store.waitForCompaction()
        XCTAssertThrowsError(try store.range(RangeRequest(key: bytes("a"), revision: 4))) { error in
            XCTAssertEqual((error as? StorageError)?.message, "etcdserver: mvcc: required revision has been compacted")
        }
        XCTAssertThrowsError(try store.events(from: 4))
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("a"), revision: 5))), ["2"])
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("a")))), ["3"])
        XCTAssertEqual(try store.events(from: 5).map(\.kv.modRevision), [6], "b's tombstone at the compact revision is gone")
        do {
            try await store.write { txn in try txn.compact(revision: 5) }
            XCTFail("compacting again at the same revision must fail")
        } catch {
            XCTAssertEqual((error as? StorageError)?.code, .compacted)
        }
        let status = try store.status()
        XCTAssertEqual(status.compactRevision, 5)
        XCTAssertEqual(status.revision, 6)
    }

    func testCompactionInSmallBatchesSurvivesReopen() async throws {
        store.close()
        store = try MVCCStore(path: directory.file("db"), options: MVCCOptions(compactionBatchKeys: 3))
        for round in 0..<3 {
            for key in 0..<10 { try await put("k\(key)", "\(round)") }
        }
        try await store.write { txn in try txn.compact(revision: 26) }
        let before = try store.hashKV(revision: 26)
        store.close()
        store = try MVCCStore(path: directory.file("db"), options: MVCCOptions(compactionBatchKeys: 3))
        try await store.waitForCompaction()
        XCTAssertEqual(try store.hashKV(revision: 26), before, "the hash does not depend on physical compaction")
        XCTAssertEqual(try store.events(from: 26).count, 6)
        XCTAssertEqual(try store.range(RangeRequest(key: bytes("k9"), revision: 26)).kvs.first?.modRevision, 21)
    }

    func testEventsCarryPreviousVersionsWhenAsked() async throws {
        try await put("a", "1")
        try await put("a", "2")
        try await store.write { txn in try txn.deleteRange(DeleteRangeRequest(key: bytes("a"))) }
        let events = try store.events(from: 3, through: 4, includePrevKV: true)
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events[0].prevKV?.value, bytes("1"))
        XCTAssertEqual(events[1].kind, .delete)
        XCTAssertEqual(events[1].prevKV?.value, bytes("2"))
        XCTAssertEqual(try store.events(from: 2, limit: 1).count, 1)
    }

    func testApplyingAnEntryTwiceIsANoOpAcrossRestarts() async throws {
        let first = try await store.apply(index: 5, term: 2) { txn in
            try txn.put(PutRequest(key: bytes("k"), value: bytes("v")))
        }
        XCTAssertEqual(first?.revision, 2)
        store.close()
        store = try MVCCStore(path: directory.file("db"))
        let replayed = try await store.apply(index: 5, term: 2) { txn in
            try txn.put(PutRequest(key: bytes("k"), value: bytes("v")))
        }
        XCTAssertNil(replayed)
        let status = try store.status()
        XCTAssertEqual(status.revision, 2)
        XCTAssertEqual(status.consistentIndex, 5)
        XCTAssertEqual(status.term, 2)
    }

    func testARejectedEntryStillCountsAsApplied() async throws {
        do {
            _ = try await store.apply(index: 1, term: 1) { txn in
                try txn.put(PutRequest(key: bytes("k"), value: bytes("v"), lease: 42))
            }
            XCTFail("expected lease not found")
        } catch {
            XCTAssertEqual((error as? StorageError)?.code, .leaseNotFound)
        }
        XCTAssertEqual(try store.status().consistentIndex, 1)
        XCTAssertEqual(try store.status().revision, 1)
    }

    /// A batch of entries applies in log order in one commit: each sees the ones before it, a
    /// rejected one fails alone (still counted applied), and replayed ones are skipped.
    func testABatchOfEntriesAppliesInOrderAndFailsEntryByEntry() async throws {
        let results = try await store.apply([
            MVCCStore.AppliedEntry(index: 1, term: 1) { txn in try txn.put(PutRequest(key: bytes("a"), value: bytes("1"))).revision },
            MVCCStore.AppliedEntry(index: 2, term: 1) { txn in
                try txn.put(PutRequest(key: bytes("b"), value: bytes("2"), lease: 42)).revision
            },
            MVCCStore.AppliedEntry(index: 3, term: 2) { txn in
                let seen = try txn.range(RangeRequest(key: bytes("a"))).kvs.first?.value
                XCTAssertEqual(seen, bytes("1"), "an entry sees the ones before it in its batch")
                return try txn.put(PutRequest(key: bytes("c"), value: bytes("3"))).revision
            },
        ])
        XCTAssertEqual(try results[0]?.get(), 2)
        XCTAssertThrowsError(try results[1]?.get()) { XCTAssertEqual(($0 as? StorageError)?.code, .leaseNotFound) }
        XCTAssertEqual(try results[2]?.get(), 3)
        let status = try store.status()
        XCTAssertEqual(status.consistentIndex, 3)
        XCTAssertEqual(status.term, 2)
        XCTAssertEqual(status.revision, 3)

        let replayed = try await store.apply([
            MVCCStore.AppliedEntry(index: 3, term: 2) { txn in try txn.put(PutRequest(key: bytes("c"), value: bytes("x"))).revision },
            MVCCStore.AppliedEntry(index: 4, term: 2) { txn in try txn.put(PutRequest(key: bytes("d"), value: bytes("4"))).revision },
        ])
        XCTAssertNil(replayed[0])
        XCTAssertEqual(try replayed[1]?.get(), 4)
    }

    func testConcurrentWritesAllCommitWithDistinctRevisions() async throws {
        let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for writer in 0..<64 {
                group.addTask { [store] in
                    try await store!.write { txn in
                        try txn.put(PutRequest(key: bytes("w\(writer)"), value: bytes("v"))).revision
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(revisions), Set(2...65))
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true)).count, 64)
    }

    func testQuotaReportsNoRoomOnceFullAndDeletesStillWork() async throws {
        store.close()
        store = try MVCCStore(path: directory.file("db"), options: MVCCOptions(quotaBytes: 1 << 20))
        let value = [UInt8](repeating: 7, count: 16 << 10)
        var stored = 0
        while try store.hasRoom(forBytes: value.count + 8), stored < 1000 {
            let key = bytes("k\(stored)")
            try await store.write { txn in _ = try txn.put(PutRequest(key: key, value: value)) }
            stored += 1
        }
        XCTAssertGreaterThan(stored, 10)
        XCTAssertLessThan(stored, 1000)
        XCTAssertLessThanOrEqual(try store.status().sizeBytes, 1 << 20)
        XCTAssertEqual(try store.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true)).count, Int64(stored))
        // The map has headroom past the quota: deletes and compaction still commit.
        let deleted = try await store.write { txn in
            let deleted = try txn.deleteRange(DeleteRangeRequest(key: [0], rangeEnd: [0]))
            try txn.compact(revision: txn.revision)
            return deleted
        }
        XCTAssertEqual(deleted.deleted, Int64(stored))
        try await store.waitForCompaction()
        try await store.defragment()
        XCTAssertTrue(try store.hasRoom(forBytes: value.count + 8))
    }

    func testAlarmsPersistAcrossReopenAndClearOneAtATime() async throws {
        let noSpace = AlarmRecord(memberID: 0xABCD, kind: .noSpace)
        let corrupt = AlarmRecord(memberID: 7, kind: .corrupt)
        let raised = try await store.write { txn in
            [try txn.activate(noSpace), try txn.activate(corrupt), try txn.activate(noSpace)]
        }
        XCTAssertEqual(raised, [true, true, false])
        XCTAssertEqual(try store.alarms(), [corrupt, noSpace])
        XCTAssertEqual(try store.status().revision, 1, "alarms are not key-value changes")
        store.close()
        store = try MVCCStore(path: directory.file("db"))
        XCTAssertEqual(try store.alarms(), [corrupt, noSpace])
        let cleared = try await store.write { txn in [try txn.deactivate(noSpace), try txn.deactivate(noSpace)] }
        XCTAssertEqual(cleared, [true, false])
        XCTAssertEqual(try store.alarms(), [corrupt])
    }

    func testDefragmentShrinksTheFileAndKeepsTheData() async throws {
        let value = [UInt8](repeating: 1, count: 4096)
        for key in 0..<300 {
            try await store.write { txn in _ = try txn.put(PutRequest(key: bytes("k\(key)"), value: value)) }
        }
        try await store.write { txn in
            _ = try txn.deleteRange(DeleteRangeRequest(key: bytes("k1"), rangeEnd: bytes("k9")))
            try txn.compact(revision: txn.revision)
        }
        try await store.waitForCompaction()
        let hash = try store.hashKV()
        let before = try store.status()
        try await store.defragment()
        let after = try store.status()
        XCTAssertLessThan(after.sizeBytes, before.sizeBytes / 2)
        XCTAssertLessThanOrEqual(after.sizeInUseBytes, after.sizeBytes)
        XCTAssertEqual(try store.hashKV(), hash)
        XCTAssertEqual(after.revision, before.revision)
        try await put("after", "defrag")
        XCTAssertEqual(values(try store.range(RangeRequest(key: bytes("after")))), ["defrag"])
    }

    func testCopyToADescriptorIsAConsistentReadableStore() async throws {
        for key in 0..<50 { try await put("k\(key)", "v\(key)") }
        try await store.write { txn in
            try txn.putMember(MemberRecord(id: 9, name: "n1", peerURLs: ["http://127.0.0.1:2380"], isLearner: true))
            try txn.setClusterID(0xABCD)
        }
        let writers = Task { [store] in
            for key in 50..<150 {
                try await store!.write { txn in _ = try txn.put(PutRequest(key: bytes("k\(key)"), value: bytes("late"))) }
            }
        }
        let copyPath = directory.file("copy")
        let fd = open(copyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        try store.copy(to: fd)
        close(fd)
        try await writers.value
        let copy = try MVCCStore(path: copyPath, options: MVCCOptions(readOnly: true))
        defer { copy.close() }
        let status = try copy.status()
        XCTAssertGreaterThanOrEqual(status.revision, 51)
        XCTAssertEqual(status.clusterID, 0xABCD)
        XCTAssertEqual(try copy.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true)).count, status.revision - 1, "one key per put after etcd's initial revision 1")
        XCTAssertEqual(try copy.hashKV(), try store.hashKV(revision: status.revision))
        XCTAssertEqual(try copy.members().first?.peerURLs, ["http://127.0.0.1:2380"])
        do {
            try await copy.write { txn in try txn.setClusterID(1) }
            XCTFail("a read-only store must refuse writes")
        } catch {
            XCTAssertEqual((error as? StorageError)?.code, .closed)
        }
    }

    func testMembersAreStoredAndRemoved() async throws {
        let member = MemberRecord(id: 1, name: "a", peerURLs: ["http://a:2380"], clientURLs: ["http://a:2379"])
        try await store.write { txn in
            try txn.putMember(member)
            try txn.putMember(MemberRecord(id: 2, name: "b", peerURLs: ["http://b:2380"]))
        }
        XCTAssertEqual(try store.members().map(\.id), [1, 2])
        let removed = try await store.write { txn in try txn.removeMember(id: 2) }
        XCTAssertTrue(removed)
        XCTAssertEqual(try store.members(), [member])
        XCTAssertEqual(try store.status().revision, 1, "membership changes are not key-value revisions")
    }

    func testClosedStoreReportsClosed() async throws {
        store.close()
        XCTAssertThrowsError(try store.range(RangeRequest(key: bytes("a")))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .closed)
        }
        do {
            try await put("a", "1")
            XCTFail("writes after close must fail")
        } catch {
            XCTAssertEqual((error as? StorageError)?.code, .closed)
        }
        store = nil
    }
}
