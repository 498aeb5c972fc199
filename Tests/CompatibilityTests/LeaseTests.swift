import TestSupport
import XCTest

/// lease grant, put --lease, keep-alive --once, timetolive --keys, revoke: revoking deletes
/// the attached keys in one revision, and the lease is gone afterwards.
final class LeaseTests: CompatibilityTestCase {
    func testRevokingALeaseDeletesItsKeys() throws {
        let grant = try etcdctl.json(["lease", "grant", "60"], as: EtcdctlJSON.Lease.self)
        XCTAssertNotEqual(grant.id, 0)
        XCTAssertEqual(grant.ttl, 60)
        XCTAssertEqual(grant.header.revision, 1, "granting a lease writes no key")

        try put("lk/1", "a", "--lease=\(grant.hexID)")
        try put("lk/2", "b", "--lease=\(grant.hexID)")
        try put("plain", "c")
        XCTAssertEqual(try get("lk/", "--prefix").kvs, [
            kv("lk/1", "a", create: 2, mod: 2, version: 1, lease: grant.id),
            kv("lk/2", "b", create: 3, mod: 3, version: 1, lease: grant.id),
        ])

        let kept = try etcdctl.json(["lease", "keep-alive", "--once", grant.hexID], as: EtcdctlJSON.Lease.self)
        XCTAssertEqual(kept.id, grant.id)
        XCTAssertEqual(kept.ttl, 60)

        let alive = try etcdctl.json(["lease", "timetolive", "--keys", grant.hexID], as: EtcdctlJSON.LeaseTimeToLive.self)
        XCTAssertEqual(alive.id, grant.id)
        XCTAssertEqual(alive.grantedTTL, 60)
        XCTAssert((50...60).contains(alive.ttl), "remaining TTL \(alive.ttl)")
        XCTAssertEqual(alive.keys.sorted(), ["lk/1", "lk/2"])

        let revoked = try etcdctl.json(["lease", "revoke", grant.hexID], as: EtcdctlJSON.HeaderOnly.self)
        XCTAssertEqual(revoked.header.revision, 5, "both keys go in one revision")
        XCTAssertEqual(try get("lk/", "--prefix").kvs, [])
        XCTAssertEqual(try get("plain").kvs, [kv("plain", "c", create: 4, mod: 4, version: 1)])

        let gone = try etcdctl.json(["lease", "timetolive", "--keys", grant.hexID], as: EtcdctlJSON.LeaseTimeToLive.self)
        XCTAssertEqual(gone.ttl, -1, "etcd answers TTL -1 for a lease it does not have")
        XCTAssertEqual(gone.keys, [])

        let again = try etcdctl.fail(["lease", "revoke", grant.hexID])
        XCTAssertEqual(again.errorLine, "Error: failed to revoke lease (etcdserver: requested lease not found)")
        let attach = try etcdctl.fail(["put", "late", "x", "--lease=\(grant.hexID)"])
        XCTAssertEqual(attach.errorLine, "Error: etcdserver: requested lease not found")
    }
}
