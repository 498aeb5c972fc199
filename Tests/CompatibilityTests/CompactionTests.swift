import TestSupport
import XCTest

/// `etcdctl compaction N`: reads and watches below N fail with etcd's exact messages, which
/// clients match on; N itself stays readable.
final class CompactionTests: CompatibilityTestCase {
    func testReadsBelowTheCompactedRevisionFailWithEtcdsMessage() throws {
        for value in ["v1", "v2", "v3", "v4"] {
            try put("foo", value)  // revisions 2...5
        }
        XCTAssertEqual(try etcdctl.succeed(["compaction", "4"]), "compacted revision 4\n")

        let compacted = try etcdctl.fail(["get", "foo", "--rev", "3"])
        XCTAssertEqual(compacted.errorLine, "Error: etcdserver: mvcc: required revision has been compacted")
        XCTAssertEqual(try get("foo", "--rev", "4").kvs, [kv("foo", "v3", create: 2, mod: 4, version: 3)])
        XCTAssertEqual(try get("foo").kvs, [kv("foo", "v4", create: 2, mod: 5, version: 4)])

        let future = try etcdctl.fail(["get", "foo", "--rev", "99"])
        XCTAssertEqual(future.errorLine, "Error: etcdserver: mvcc: required revision is a future revision")
        let twice = try etcdctl.fail(["compaction", "4"])
        XCTAssertEqual(twice.errorLine, "Error: etcdserver: mvcc: required revision has been compacted")
        let ahead = try etcdctl.fail(["compaction", "99"])
        XCTAssertEqual(ahead.errorLine, "Error: etcdserver: mvcc: required revision is a future revision")

        let hash = try etcdctl.json(["endpoint", "hashkv"], as: [EtcdctlJSON.EndpointHashKV].self)
        XCTAssertEqual(hash.map(\.hashKV.compactRevision), [4])

        let watch = try etcdctl.watch(["foo", "--rev", "2"])
        defer { watch.stop() }
        let response = try watch.nextResponse(before: ContinuousClock.now + .seconds(10))
        XCTAssertEqual(response?.canceled, true, "a watch from a compacted revision is canceled")
        XCTAssertEqual(response?.compactRevision, 4)
        XCTAssertEqual(response?.events.count, 0)
    }
}
