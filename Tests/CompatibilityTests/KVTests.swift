import TestSupport
import XCTest

/// put, get with every range option etcdctl 3.4 has, and del — compared field by field with
/// what etcd answers: revisions count writes from 1, versions count puts since creation.
final class KVTests: CompatibilityTestCase {
    func testPutsAdvanceTheRevisionByOneAndTheKeyVersion() throws {
        let empty = try get("foo")
        XCTAssertEqual(empty.header.revision, 1, "a fresh server is at revision 1")
        XCTAssertEqual(empty.kvs, [])
        XCTAssertEqual(empty.count, 0)
        XCTAssertNotEqual(empty.header.clusterID, 0)
        XCTAssertNotEqual(empty.header.memberID, 0)
        XCTAssertGreaterThanOrEqual(empty.header.raftTerm, 1)

        let first = try put("foo", "bar")
        XCTAssertEqual(first.header.revision, 2)
        XCTAssertNil(first.prevKV)
        let second = try put("foo", "baz", "--prev-kv")
        XCTAssertEqual(second.header.revision, 3)
        XCTAssertEqual(second.prevKV, kv("foo", "bar", create: 2, mod: 2, version: 1))

        let read = try get("foo")
        XCTAssertEqual(read.header.revision, 3)
        XCTAssertEqual(read.kvs, [kv("foo", "baz", create: 2, mod: 3, version: 2)])
        XCTAssertEqual(read.count, 1)
        XCTAssertFalse(read.more)
        XCTAssertEqual(read.header.clusterID, empty.header.clusterID)
        XCTAssertEqual(read.header.memberID, empty.header.memberID)

        XCTAssertEqual(try get("fo").kvs, [], "a key is not a prefix")
    }

    func testRangeOptionsPrefixFromKeyLimitAndOlderRevisions() throws {
        for (key, value) in [("a", "1"), ("foo", "zz"), ("foo/1", "yy"), ("foo/2", "xx"), ("fop", "ww")] {
            try put(key, value)
        }
        // Revisions 2...6 in that order.
        let prefix = try get("foo", "--prefix")
        XCTAssertEqual(prefix.kvs, [
            kv("foo", "zz", create: 3, mod: 3, version: 1),
            kv("foo/1", "yy", create: 4, mod: 4, version: 1),
            kv("foo/2", "xx", create: 5, mod: 5, version: 1),
        ])
        XCTAssertEqual(prefix.count, 3)

        XCTAssertEqual(keys(try get("foo/1", "--from-key")), ["foo/1", "foo/2", "fop"])
        XCTAssertEqual(keys(try get("foo", "foo/2")), ["foo", "foo/1"], "an explicit range end is exclusive")

        let limited = try get("foo", "--prefix", "--limit", "2")
        XCTAssertEqual(keys(limited), ["foo", "foo/1"])
        XCTAssertTrue(limited.more)
        XCTAssertEqual(limited.count, 3, "count is the whole range, not the page")

        // etcdctl 3.4 has no --count-only; the count of a range is in every answer, and a
        // keys-only page of one is the cheapest way to ask for it.
        let counted = try get("", "--from-key", "--keys-only", "--limit", "1")
        XCTAssertEqual(counted.count, 5)
        XCTAssertEqual(counted.kvs, [kv("a", "", create: 2, mod: 2, version: 1)])

        try put("a", "2")
        XCTAssertEqual(try get("a", "--rev", "6").kvs, [kv("a", "1", create: 2, mod: 2, version: 1)])
        let old = try get("foo", "--prefix", "--rev", "4")
        XCTAssertEqual(keys(old), ["foo", "foo/1"], "a range at an older revision sees the keys of then")
        XCTAssertEqual(old.header.revision, 7, "the header carries the current revision, not the one read")
        XCTAssertEqual(try get("a").kvs, [kv("a", "2", create: 2, mod: 7, version: 2)])
    }

    func testSortOrderAndKeysOnly() throws {
        for (key, value) in [("foo/b", "1"), ("foo/a", "3"), ("foo/c", "2")] {
            try put(key, value)
        }
        try put("foo/b", "4")
        // foo/b: create 2 mod 5 version 2; foo/a: 3, 3, 1; foo/c: 4, 4, 1.
        XCTAssertEqual(keys(try get("foo/", "--prefix")), ["foo/a", "foo/b", "foo/c"], "ascending by key by default")
        XCTAssertEqual(keys(try get("foo/", "--prefix", "--sort-by=KEY", "--order=DESCEND")), ["foo/c", "foo/b", "foo/a"])
        XCTAssertEqual(keys(try get("foo/", "--prefix", "--sort-by=VALUE", "--order=ASCEND")), ["foo/c", "foo/a", "foo/b"])
        XCTAssertEqual(keys(try get("foo/", "--prefix", "--sort-by=CREATE", "--order=ASCEND")), ["foo/b", "foo/a", "foo/c"])
        XCTAssertEqual(keys(try get("foo/", "--prefix", "--sort-by=VERSION", "--order=DESCEND")).first, "foo/b")

        let newest = try get("foo/", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "--limit", "2")
        XCTAssertEqual(keys(newest), ["foo/b", "foo/c"], "the limit applies after sorting")
        XCTAssertTrue(newest.more)
        XCTAssertEqual(newest.count, 3)

        let keysOnly = try get("foo/", "--prefix", "--keys-only")
        XCTAssertEqual(keysOnly.kvs, [
            kv("foo/a", "", create: 3, mod: 3, version: 1),
            kv("foo/b", "", create: 2, mod: 5, version: 2),
            kv("foo/c", "", create: 4, mod: 4, version: 1),
        ])
    }

    func testDeleteSinglePrefixAndPrevKV() throws {
        for key in ["foo/1", "foo/2", "foo/3", "bar"] {
            try put(key, "v-" + key)
        }
        // Revisions 2...5.
        let single = try del("bar")
        XCTAssertEqual(single.deleted, 1)
        XCTAssertEqual(single.prevKVs, [])
        XCTAssertEqual(single.header.revision, 6)

        let nothing = try del("bar")
        XCTAssertEqual(nothing.deleted, 0)
        XCTAssertEqual(nothing.header.revision, 6, "deleting nothing is not a write")

        let prefix = try del("foo/", "--prefix", "--prev-kv")
        XCTAssertEqual(prefix.deleted, 3)
        XCTAssertEqual(prefix.header.revision, 7, "one delete of many keys is one revision")
        XCTAssertEqual(prefix.prevKVs, [
            kv("foo/1", "v-foo/1", create: 2, mod: 2, version: 1),
            kv("foo/2", "v-foo/2", create: 3, mod: 3, version: 1),
            kv("foo/3", "v-foo/3", create: 4, mod: 4, version: 1),
        ])
        let after = try get("foo/", "--prefix")
        XCTAssertEqual(after.kvs, [])
        XCTAssertEqual(after.count, 0)

        try put("foo/2", "again")
        XCTAssertEqual(try get("foo/2").kvs, [kv("foo/2", "again", create: 8, mod: 8, version: 1)],
                       "a key created again starts a new generation")
        let withPrev = try del("foo/2", "--prev-kv")
        XCTAssertEqual(withPrev.deleted, 1)
        XCTAssertEqual(withPrev.prevKVs, [kv("foo/2", "again", create: 8, mod: 8, version: 1)])
        XCTAssertEqual(withPrev.header.revision, 9)
    }
}
