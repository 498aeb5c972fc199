import TestSupport
import XCTest

/// `etcdctl txn` reading compares, success ops and failure ops from standard input, each list
/// ended by an empty line — the same text an operator types at the interactive prompt.
final class TxnTests: CompatibilityTestCase {
    private func txn(_ lines: [String]) throws -> EtcdctlJSON.Txn {
        try etcdctl.json(["txn"], stdin: lines.joined(separator: "\n") + "\n")
    }

    func testSuccessBranchRunsWhenEveryCompareHolds() throws {
        try put("t1", "one")
        let result = try txn([
            #"value("t1") = "one""#, #"version("t1") = "1""#, "",
            "put t1 two", "put t2 new", "get t1", "",
            "put t1 failed", "",
        ])
        XCTAssertTrue(result.succeeded)
        XCTAssertEqual(result.header.revision, 3, "all writes of one txn share one revision")
        guard result.responses.count == 3, case .put(let first) = result.responses[0], case .put = result.responses[1],
              case .range(let range) = result.responses[2] else {
            return XCTFail("expected put, put, range: \(result.responses)")
        }
        XCTAssertEqual(first.header.revision, 3)
        XCTAssertEqual(range.kvs, [kv("t1", "two", create: 2, mod: 3, version: 2)], "a get inside the txn sees its own puts")
        XCTAssertEqual(range.header.revision, 3)

        XCTAssertEqual(try get("t", "--prefix").kvs, [
            kv("t1", "two", create: 2, mod: 3, version: 2),
            kv("t2", "new", create: 3, mod: 3, version: 1),
        ])
    }

    func testFailureBranchRunsWhenACompareFails() throws {
        try put("t1", "one")
        let result = try txn([
            #"value("t1") = "other""#, "",
            "put t1 two", "",
            "get t1", "del t1", "",
        ])
        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(result.header.revision, 3)
        guard result.responses.count == 2, case .range(let range) = result.responses[0],
              case .delete(let delete) = result.responses[1] else {
            return XCTFail("expected range, delete: \(result.responses)")
        }
        XCTAssertEqual(range.kvs, [kv("t1", "one", create: 2, mod: 2, version: 1)])
        XCTAssertEqual(delete.deleted, 1)
        XCTAssertEqual(try get("t1").kvs, [])

        let readOnly = try txn([#"mod("t1") > "0""#, "", "put t1 never", "", ""])
        XCTAssertFalse(readOnly.succeeded, "a deleted key's mod revision is 0")
        XCTAssertEqual(readOnly.responses.count, 0)
        XCTAssertEqual(readOnly.header.revision, 3, "a txn that writes nothing does not advance the revision")
    }
}
