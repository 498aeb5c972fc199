import Linearizability
import XCTest

final class WatchCheckTests: XCTestCase {
    /// Revisions 2...7 of keys under "a/" and one outside; revision 5 is a transaction
    /// writing two keys.
    private let writes = [
        WriteRecord(revision: 2, key: "a/1", kind: .put, value: "x"),
        WriteRecord(revision: 3, key: "b/1", kind: .put, value: "elsewhere"),
        WriteRecord(revision: 4, key: "a/2", kind: .put, value: "y"),
        WriteRecord(revision: 5, key: "a/1", kind: .put, value: "z"),
        WriteRecord(revision: 5, key: "a/2", kind: .delete, value: nil),
        WriteRecord(revision: 6, key: "a/1", kind: .delete, value: nil),
        WriteRecord(revision: 7, key: "a/3", kind: .put, value: "w"),
    ]

    private var goodStream: [WatchEvent] {
        [
            WatchEvent(revision: 2, key: "a/1", kind: .put, value: "x"),
            WatchEvent(revision: 4, key: "a/2", kind: .put, value: "y"),
            WatchEvent(revision: 5, key: "a/2", kind: .delete, value: nil),
            WatchEvent(revision: 5, key: "a/1", kind: .put, value: "z"),
            WatchEvent(revision: 6, key: "a/1", kind: .delete, value: nil),
        ]
    }

    private func check(_ received: [WatchEvent], from start: Int64 = 2) -> [String] {
        WatchCheck.check(received: received, writes: writes, startRevision: start, keyPrefix: "a/")
    }

    func testGoodStreamPasses() {
        // Revision 7 has not arrived yet, which is not a gap.
        XCTAssertEqual(check(goodStream), [])
        XCTAssertEqual(check([]), [])
    }

    func testStreamStartingLaterPasses() {
        XCTAssertEqual(check(Array(goodStream.dropFirst(2)), from: 5), [])
    }

    func testWholePrefixWatchSeesEveryKey() {
        let all = writes.map { WatchEvent(revision: $0.revision, key: $0.key, kind: $0.kind, value: $0.value) }
        XCTAssertEqual(WatchCheck.check(received: all, writes: writes, startRevision: 1, keyPrefix: ""), [])
        XCTAssertEqual(
            WatchCheck.check(received: goodStream, writes: writes, startRevision: 1, keyPrefix: ""),
            [#"missing put "elsewhere" of key "b/1" at revision 3"#]
        )
    }

    func testDuplicateIsReported() {
        var stream = goodStream
        stream.insert(stream[1], at: 2)
        XCTAssertEqual(check(stream), [#"event #2 (revision 4, key "a/2"): received twice"#])
    }

    func testMissingEventIsReported() {
        var stream = goodStream
        stream.remove(at: 1)
        XCTAssertEqual(check(stream), [#"missing put "y" of key "a/2" at revision 4"#])
    }

    func testMissingKeyOfTransactionIsReported() {
        var stream = goodStream
        stream.remove(at: 2)
        XCTAssertEqual(check(stream), [#"missing delete of key "a/2" at revision 5"#])
    }

    func testReorderedEventsAreReported() {
        var stream = goodStream
        stream.swapAt(0, 1)
        XCTAssertEqual(check(stream), [#"event #1 (revision 2, key "a/1"): out of order, arrived after revision 4"#])
    }

    func testWrongContentIsReported() {
        var stream = goodStream
        stream[3].value = "stale"
        stream[4].kind = .put
        stream[4].value = "z"
        XCTAssertEqual(check(stream), [
            #"event #3 (revision 5, key "a/1"): expected put "z", got put "stale""#,
            #"event #4 (revision 6, key "a/1"): expected delete, got put "z""#,
        ])
    }

    func testEventsOutsideTheWatchAreReported() {
        let stream = [
            WatchEvent(revision: 3, key: "b/1", kind: .put, value: "elsewhere"),
            WatchEvent(revision: 1, key: "a/0", kind: .put, value: "before"),
            WatchEvent(revision: 2, key: "a/1", kind: .put, value: "x"),
            WatchEvent(revision: 3, key: "a/9", kind: .put, value: "invented"),
        ]
        XCTAssertEqual(check(stream), [
            #"event #0 (revision 3, key "b/1"): outside the watched range (keys "a/"…, revisions 2…)"#,
            #"event #1 (revision 1, key "a/0"): outside the watched range (keys "a/"…, revisions 2…)"#,
            #"event #3 (revision 3, key "a/9"): no such write was made"#,
        ])
    }

    func testInconsistentWriteListIsReported() {
        let doubled = writes + [WriteRecord(revision: 2, key: "a/1", kind: .put, value: "other")]
        XCTAssertEqual(
            WatchCheck.check(received: [], writes: doubled, startRevision: 2, keyPrefix: "a/"),
            [#"writes list has two writes of key "a/1" at revision 2"#]
        )
    }

    func testWriteRecordsComeFromSuccessfulWrites() {
        func record(_ input: Operation.Input, _ output: Operation.Output?) -> WriteRecord? {
            WriteRecord(Operation(client: 0, key: "k", input: input, output: output, invokeNanos: 0, completeNanos: 1))
        }
        XCTAssertEqual(record(.put(value: "a"), .put(revision: 3)), WriteRecord(revision: 3, key: "k", kind: .put, value: "a"))
        XCTAssertEqual(
            record(.compareAndSwap(expected: nil, new: "b"), .compareAndSwap(succeeded: true, revision: 4)),
            WriteRecord(revision: 4, key: "k", kind: .put, value: "b")
        )
        XCTAssertEqual(record(.delete, .delete(deleted: 1, revision: 5)), WriteRecord(revision: 5, key: "k", kind: .delete, value: nil))
        XCTAssertNil(record(.compareAndSwap(expected: nil, new: "b"), .compareAndSwap(succeeded: false, revision: 4)))
        XCTAssertNil(record(.delete, .delete(deleted: 0, revision: 5)))
        XCTAssertNil(record(.put(value: "a"), nil))
        XCTAssertNil(record(.get, .get(value: "a")))
    }
}
