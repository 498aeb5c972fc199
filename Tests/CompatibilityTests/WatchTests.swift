import TestSupport
import XCTest

/// `etcdctl watch -w json` as a background process, read line by line, while other etcdctl
/// processes write: events arrive in revision order, with the revisions the writes reported.
final class WatchTests: CompatibilityTestCase {
    private var watches: [EtcdctlWatch] = []

    override func tearDown() {
        watches.forEach { $0.stop() }
        watches = []
        super.tearDown()
    }

    private func watch(_ arguments: String...) throws -> EtcdctlWatch {
        let watch = try etcdctl.watch(arguments)
        watches.append(watch)
        return watch
    }

    func testPrefixWatchSeesAnotherProcessWritesInOrder() throws {
        let watch = try watch("--prefix", "foo")
        let deadline = ContinuousClock.now + .seconds(20)
        // etcdctl prints nothing when the watch is created, so write a marker until it shows up.
        var marker = 0
        repeat {
            guard ContinuousClock.now < deadline else { return XCTFail("the watch saw none of \(marker) marker writes") }
            marker += 1
            try put("foo/marker", "\(marker)")
        } while try watch.nextResponse(before: min(deadline, ContinuousClock.now + .milliseconds(300))) == nil

        let revisions = try [
            put("foo/a", "1").header.revision,
            put("foo/b", "2").header.revision,
            put("other", "unwatched").header.revision,
            put("foo/a", "3").header.revision,
            del("foo/b").header.revision,
        ]
        XCTAssertEqual(revisions, Array(revisions[0]...revisions[0] + 4))

        var events: [EtcdctlJSON.Watch.Event] = []
        while events.count < 4 {
            events += try watch.nextEvents(1, before: deadline).filter { $0.kv.key != "foo/marker" }
        }
        let first = revisions[0]
        XCTAssertEqual(events.map(\.type), [.put, .put, .put, .delete])
        XCTAssertEqual(events.map(\.kv), [
            kv("foo/a", "1", create: first, mod: first, version: 1),
            kv("foo/b", "2", create: first + 1, mod: first + 1, version: 1),
            kv("foo/a", "3", create: first, mod: first + 3, version: 2),
            EtcdctlJSON.KeyValue(key: "foo/b", createRevision: 0, modRevision: first + 4, version: 0),
        ])
        XCTAssertTrue(events.allSatisfy { $0.prevKV == nil }, "no prev_kv unless asked")
    }

    func testWatchFromAnOldRevisionReplaysHistoryWithPrevKV() throws {
        try put("foo/a", "1")  // 2
        try put("foo/a", "2")  // 3
        _ = try del("foo/a")  // 4
        try put("foo/b", "1")  // 5
        try put("bar", "x")  // 6

        let watch = try watch("--prefix", "foo", "--rev", "3", "--prev-kv")
        let deadline = ContinuousClock.now + .seconds(15)
        let history = try watch.nextEvents(3, before: deadline)
        XCTAssertEqual(history.map(\.type), [.put, .delete, .put])
        XCTAssertEqual(history.map(\.kv), [
            kv("foo/a", "2", create: 2, mod: 3, version: 2),
            EtcdctlJSON.KeyValue(key: "foo/a", createRevision: 0, modRevision: 4, version: 0),
            kv("foo/b", "1", create: 5, mod: 5, version: 1),
        ])
        XCTAssertEqual(history.map(\.prevKV), [
            kv("foo/a", "1", create: 2, mod: 2, version: 1),
            kv("foo/a", "2", create: 2, mod: 3, version: 2),
            nil,
        ])

        try put("foo/b", "2")  // 7, while the watch is live
        let live = try watch.nextEvents(1, before: deadline)
        XCTAssertEqual(live.map(\.kv), [kv("foo/b", "2", create: 5, mod: 7, version: 2)])
        XCTAssertEqual(live.map(\.prevKV), [kv("foo/b", "1", create: 5, mod: 5, version: 1)])
    }
}
