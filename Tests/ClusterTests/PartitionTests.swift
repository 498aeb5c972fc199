import Foundation
import TestSupport
import XCTest

/// The partition proxies really cut the network: a leader cut off from the other members
/// loses its place to a leader the majority elects, cannot answer a linearizable read while
/// the majority writes, and catches up once the partition heals.
final class PartitionTests: ClusterTestCase {
    func testAnIsolatedLeaderIsReplacedAndCatchesUpAfterTheHeal() throws {
        let cluster = try LocalCluster(size: 3, partitionable: true)
        self.cluster = cluster
        try cluster.start()
        let leader = try XCTUnwrap(try cluster.waitForLeader(), "no leader")
        let majority = cluster.members.filter { $0 !== leader }
        try cluster.etcdctl().succeed(["put", "before", "partition"])

        cluster.partitions.isolate(leader.name, from: majority.map(\.name))
        var newLeader: ServerProcess?
        try cluster.eventually("the majority elects a leader of its own") {
            newLeader = try cluster.waitForLeader(among: majority, timeout: .seconds(1))
            return newLeader != nil
        }
        XCTAssertFalse(newLeader === leader)
        let majorityClient = try cluster.etcdctl(majority[0], majority[1])
        try cluster.eventually("a write through the majority commits") {
            try majorityClient.succeed(["put", "during", "partition"])
            return true
        }
        let isolatedRead = try cluster.etcdctl(leader).run(["get", "during", "--command-timeout=2s"], timeout: .seconds(10))
        XCTAssertFalse(isolatedRead.succeeded, "the isolated member answered a linearizable read: \(isolatedRead)")
        let stale = try cluster.etcdctl(leader).json(["get", "during", "--consistency=s"], as: EtcdctlJSON.Range.self)
        XCTAssertEqual(stale.count, 0, "the write reached the isolated member")

        cluster.partitions.heal()
        try cluster.eventually("the healed member has the majority's write") {
            try cluster.etcdctl(leader).json(["get", "during", "--consistency=s"], as: EtcdctlJSON.Range.self).kvs.first?.value
                == "partition"
        }
        try leader.waitUntilHealthy(using: cluster.etcdctl(leader))
    }
}
