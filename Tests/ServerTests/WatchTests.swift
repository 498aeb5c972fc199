import API
import Foundation
import Storage
import XCTest

@testable import Server

/// The watch machinery's parts against a real store: history batches, key ranges and
/// filters, fragmentation, and the hub's wakeups.
final class WatchTests: XCTestCase {
    private var directory: URL!
    private var store: MVCCStore!
    private var index: UInt64 = 1

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try MVCCStore(path: directory.appendingPathComponent("db").path)
    }

    override func tearDown() {
        store?.close()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func write(_ body: @escaping @Sendable (inout WriteTransaction) throws -> Void) async throws {
        index += 1
        try await store.apply(index: index, term: 1, body)
    }

    private func put(_ key: String, _ value: String) async throws {
        try await write { _ = try $0.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8))) }
    }

    /// One revision holding a put of each key.
    private func putAll(_ keys: [String]) async throws {
        let ops = keys.map { RequestOp.put(PutRequest(key: Array($0.utf8), value: Array("v".utf8))) }
        try await write { _ = try $0.txn(TxnRequest(success: ops)) }
    }

    private func readAll(_ reader: WatchHistoryReader, from start: Int64, through end: Int64) throws
        -> [WatchHistoryReader.Batch]
    {
        var batches: [WatchHistoryReader.Batch] = []
        var next = start
        for _ in 0..<100 where next <= end {
            let batch = try reader.batch(from: next, through: end, prevKV: true)
            XCTAssertGreaterThan(batch.nextRevision, next, "a batch always moves forward")
            batches.append(batch)
            next = batch.nextRevision
        }
        return batches
    }

    // MARK: - History batches

    func testBatchesDeliverEveryEventOnceInOrderWithoutSplittingARevision() async throws {
        try await put("a", "1")  // revision 2
        try await putAll(["b", "c", "d"])  // revision 3
        try await put("a", "2")  // revision 4
        try await putAll(["e", "f"])  // revision 5
        try await write { _ = try $0.deleteRange(DeleteRangeRequest(key: Array("a".utf8))) }  // revision 6
        let revision = try store.status().revision
        XCTAssertEqual(revision, 6)

        let batches = try readAll(WatchHistoryReader(store: store, eventsPerBatchMax: 2), from: 1, through: revision)
        let events = batches.flatMap(\.events)
        XCTAssertEqual(events.map(\.kv.modRevision), [2, 3, 3, 3, 4, 5, 5, 6])
        XCTAssertEqual(events, try store.events(from: 1, through: revision, includePrevKV: true))
        for batch in batches {
            // Every revision of a batch is whole: the store holds no more of it.
            for revision in Set(batch.events.map(\.kv.modRevision)) {
                let whole = try store.events(from: revision, through: revision)
                XCTAssertEqual(batch.events.filter { $0.kv.modRevision == revision }.count, whole.count)
            }
        }
        XCTAssertEqual(events.last?.kind, .delete)
        XCTAssertEqual(events.last?.prevKV?.value, Array("2".utf8))
    }

    func testABatchStopsAtTheRequestedRevision() async throws {
        for value in 1...5 { try await put("k", "\(value)") }
        let batch = try WatchHistoryReader(store: store).batch(from: 3, through: 4, prevKV: false)
        XCTAssertEqual(batch.events.map(\.kv.modRevision), [3, 4])
        XCTAssertEqual(batch.nextRevision, 5)
        XCTAssertNil(batch.events[0].prevKV)
    }

    func testABatchFromACompactedRevisionFailsWithCompacted() async throws {
        for value in 1...5 { try await put("k", "\(value)") }
        try await write { try $0.compact(revision: 4) }
        let reader = WatchHistoryReader(store: store)
        XCTAssertThrowsError(try reader.batch(from: 3, through: 6, prevKV: false)) { error in
            XCTAssertEqual((error as? StorageError)?.code, .compacted)
        }
        XCTAssertEqual(try reader.batch(from: 4, through: 6, prevKV: false).events.map(\.kv.modRevision), [4, 5, 6])
    }

    // MARK: - Watchers

    func testKeysFollowEtcdsRangeConvention() {
        let a = Array("a".utf8)
        XCTAssertEqual(Watcher.Keys(key: [], rangeEnd: []), .single([0]))
        XCTAssertEqual(Watcher.Keys(key: a, rangeEnd: [0]), .from(a))
        XCTAssertNil(Watcher.Keys(key: Array("b".utf8), rangeEnd: a))
        XCTAssertNil(Watcher.Keys(key: a, rangeEnd: a))
        let prefix = Watcher.Keys(key: Array("foo".utf8), rangeEnd: Array("fop".utf8))!
        XCTAssertTrue(prefix.contains(Array("foo".utf8)))
        XCTAssertTrue(prefix.contains(Array("foo/bar".utf8)))
        XCTAssertFalse(prefix.contains(Array("fop".utf8)))
        XCTAssertFalse(prefix.contains(Array("fo".utf8)))
        XCTAssertTrue(Watcher.Keys(key: a, rangeEnd: [0])!.contains(Array("zzz".utf8)))
        XCTAssertFalse(Watcher.Keys(key: a, rangeEnd: [])!.contains(Array("ab".utf8)))
    }

    func testFiltersDropPutsOrDeletes() {
        var request = Etcdserverpb_WatchCreateRequest()
        request.filters = [.noput]
        let key = Array("k".utf8)
        let watcher = Watcher(id: 0, keys: .single(key), request: request, nextRevision: 1)
        let kv = KeyValue(key: key, createRevision: 2, modRevision: 2, version: 1, value: [], lease: 0)
        XCTAssertFalse(watcher.wants(Storage.Event(kind: .put, kv: kv)))
        XCTAssertTrue(watcher.wants(Storage.Event(kind: .delete, kv: kv)))
        request.filters = [.nodelete]
        let other = Watcher(id: 1, keys: .single(key), request: request, nextRevision: 1)
        XCTAssertTrue(other.wants(Storage.Event(kind: .put, kv: kv)))
        XCTAssertFalse(other.wants(Storage.Event(kind: .delete, kv: kv)))
    }

    // MARK: - Fragments

    private func response(eventSizes: [Int]) -> Etcdserverpb_WatchResponse {
        var response = Etcdserverpb_WatchResponse()
        response.watchID = 7
        response.header.revision = 42
        response.events = eventSizes.enumerated().map { offset, size in
            var event = Mvccpb_Event()
            event.kv.key = Data("key\(offset)".utf8)
            event.kv.value = Data(repeating: 0x61, count: size)
            return event
        }
        return response
    }

    func testAResponseUnderTheLimitOrWithOneEventIsNotFragmented() {
        let small = response(eventSizes: [10, 10])
        XCTAssertEqual(WatchFragmenter.split(small, limitBytes: 1000), [small])
        let single = response(eventSizes: [5000])
        XCTAssertEqual(WatchFragmenter.split(single, limitBytes: 1000), [single])
    }

    func testFragmentsStayUnderTheLimitAndJoinBackIntoTheResponse() throws {
        let large = response(eventSizes: [300, 300, 300, 300, 1500, 10])
        let fragments = WatchFragmenter.split(large, limitBytes: 1000)
        XCTAssertGreaterThan(fragments.count, 1)
        XCTAssertEqual(fragments.map(\.fragment), Array(repeating: true, count: fragments.count - 1) + [false])
        XCTAssertEqual(fragments.flatMap(\.events), large.events)
        for fragment in fragments {
            XCTAssertEqual(fragment.watchID, 7)
            XCTAssertEqual(fragment.header.revision, 42)
            let bytes: [UInt8] = try fragment.serializedBytes()
            XCTAssertTrue(bytes.count < 1000 || fragment.events.count == 1, "\(bytes.count) bytes")
        }
    }

    // MARK: - Hub

    func testTheHubWakesSubscribersOnlyWhenTheRevisionAdvances() async throws {
        let hub = try WatchHub(store: store)
        XCTAssertEqual(hub.revision, 1)
        let (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let subscription = hub.subscribe(wakeup)
        hub.advance(to: 1)
        hub.advance(to: 3)
        hub.advance(to: 2)
        XCTAssertEqual(hub.revision, 3)
        var iterator = wakeups.makeAsyncIterator()
        _ = await iterator.next()
        hub.unsubscribe(subscription)
        hub.advance(to: 4)
        wakeup.finish()
        let more: Void? = await iterator.next()
        XCTAssertNil(more, "no wakeup after unsubscribing, nor a second for the same advance")
    }

    func testAppliedResultsTellTheHubTheNewRevision() {
        XCTAssertEqual(WatchHub.revisionChange(after: .put(PutResponse(revision: 9, prevKV: nil))), .to(9))
        XCTAssertEqual(WatchHub.revisionChange(after: .compaction(revision: 3)), .unchanged)
        XCTAssertEqual(WatchHub.revisionChange(after: .leaseRevoke(deletedKeys: 0)), .unchanged)
        XCTAssertEqual(WatchHub.revisionChange(after: .leaseRevoke(deletedKeys: 2)), .unknown)
        XCTAssertEqual(WatchHub.revisionChange(after: nil), .unknown)
    }
}
