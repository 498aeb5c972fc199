import Foundation
import TestSupport
import XCTest

/// Leases expire on the leader through the log (their keys go with them), the minimum TTL is
/// etcd's, and a restart gives every lease its full TTL again instead of expiring it.
final class LeaseExpiryTests: CompatibilityTestCase {
    func testAnExpiredLeaseTakesItsKeysWithIt() throws {
        let grant = try etcdctl.json(["lease", "grant", "1"], as: EtcdctlJSON.Lease.self)
        XCTAssertEqual(grant.ttl, 2, "raised to etcd's minimum TTL, 1.5 election timeouts")
        try put("expiring", "v", "--lease=\(grant.hexID)")

        let deadline = ContinuousClock.now + .seconds(15)
        while try !get("expiring").kvs.isEmpty {
            guard ContinuousClock.now < deadline else { return XCTFail("the key outlived its lease") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let gone = try etcdctl.json(["lease", "timetolive", grant.hexID], as: EtcdctlJSON.LeaseTimeToLive.self)
        XCTAssertEqual(gone.ttl, -1)
    }

    func testARestartGivesLeasesTheirFullTTL() throws {
        let grant = try etcdctl.json(["lease", "grant", "30"], as: EtcdctlJSON.Lease.self)
        try put("kept", "v", "--lease=\(grant.hexID)")
        server.stop()
        try server.start()
        try server.waitUntilHealthy(using: etcdctl)

        let alive = try etcdctl.json(["lease", "timetolive", "--keys", grant.hexID], as: EtcdctlJSON.LeaseTimeToLive.self)
        XCTAssertEqual(alive.grantedTTL, 30)
        XCTAssert((28...30).contains(alive.ttl), "remaining TTL \(alive.ttl) after the restart")
        XCTAssertEqual(alive.keys, ["kept"])
    }
}
