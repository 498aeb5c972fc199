import Foundation
import TestSupport
import XCTest

/// The whole cluster is lost and rebuilt from one snapshot with `cairn snapshot restore`, as
/// runbooks/whole-cluster-from-snapshot.md does it.
final class DisasterDrillTests: ClusterTestCase {
    private struct RestoreSummary: Decodable {
        let revision: Int64
        let snapshotRevision: Int64
        let compactRevision: Int64
        let clusterID: String
        let keyCount: Int64
    }

    func testClusterRestoredFromOneSnapshotHasANewIdentityAndRevisionsAboveTheOldOnes() throws {
        let cluster = try startCluster(size: 3)
        guard cluster.binary.kind == .cairn else {
            throw XCTSkip("restores with cairn snapshot restore, which writes cairn data-dirs")
        }
        let etcdctl = try cluster.etcdctl()
        // From the next revision on, whenever etcdctl's watch is set up: no put can slip by it.
        let startRevision = try etcdctl.json(["get", "/drill/"], as: EtcdctlJSON.Range.self).header.revision + 1
        let watch = try etcdctl.watch(["--prefix", "/drill/", "--rev", "\(startRevision)"])
        defer { watch.stop() }
        for index in 0..<40 {
            _ = try etcdctl.succeed(["put", "/drill/key-\(index)", "value-\(index)"])
        }
        let grant = try etcdctl.succeed(["lease", "grant", "600"])
        let leaseID = try XCTUnwrap(grant.split(separator: " ").dropFirst().first.map(String.init))
        _ = try etcdctl.succeed(["put", "/drill/leased", "kept", "--lease=\(leaseID)"])
        _ = try etcdctl.succeed(["del", "/drill/key-0"])
        let oldClusterID = try XCTUnwrap(cluster.statuses().values.first).header.clusterID

        let snapshot = cluster.directory.file("drill.cairn")
        let leader = try XCTUnwrap(cluster.waitForLeader())
        let saved = try cairn(["snapshot", "save", snapshot, "--endpoints", leader.clientURL])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        // The old cluster goes on serving after the snapshot: these revisions must never repeat.
        for index in 0..<5 {
            _ = try etcdctl.succeed(["put", "/drill/after-snapshot-\(index)", "lost"])
        }
        let seen = try watch.nextEvents(47, before: .now + .seconds(20))
        let oldHighest = try XCTUnwrap(seen.map(\.kv.modRevision).max())

        for member in cluster.members { member.signal(SIGKILL) }
        for member in cluster.members { try FileManager.default.removeItem(atPath: member.dataDirectory) }

        let newToken = cluster.token + "-restored"
        var summaries: [RestoreSummary] = []
        for member in cluster.members {
            let restored = try cairn([
                "snapshot", "restore", snapshot, "--data-dir", member.dataDirectory, "--name", member.name,
                "--initial-cluster", member.initialCluster, "--initial-cluster-token", newToken,
                "--initial-advertise-peer-urls", member.peerURL, "--bump-revision", "auto", "--mark-compacted", "-w", "json",
            ])
            XCTAssertEqual(restored.status, 0, restored.stderr)
            summaries.append(try JSONDecoder().decode(RestoreSummary.self, from: Data(restored.stdout.utf8)))
            member.clusterToken = newToken
        }
        XCTAssertEqual(Set(summaries.map(\.clusterID)).count, 1, "every member restored into the same new cluster")
        let summary = summaries[0]
        XCTAssertEqual(summary.revision, summary.snapshotRevision + 1_000_000_000)
        XCTAssertEqual(summary.compactRevision, summary.revision)
        XCTAssertEqual(summary.keyCount, 40)
        XCTAssertLessThan(summary.snapshotRevision, oldHighest)
        try cluster.start()

        let statuses = try cluster.statuses()
        XCTAssertEqual(statuses.count, 3)
        let newClusterID = try XCTUnwrap(statuses.values.first).header.clusterID
        XCTAssertNotEqual(newClusterID, oldClusterID)
        XCTAssertEqual(String(newClusterID, radix: 16), summary.clusterID)
        XCTAssertEqual(Set(statuses.values.map(\.header.clusterID)), [newClusterID])
        XCTAssertNotNil(try cluster.waitForLeader())

        // The watcher that was open on the old cluster reconnects, asks to resume after the
        // last revision it saw, and is told that history is compacted: it must re-list.
        let deadline = ContinuousClock.now + .seconds(30)
        var watcherOutcome = "no response"
        do {
            while let response = try watch.nextResponse(before: deadline) {
                XCTAssertTrue(response.events.allSatisfy { $0.kv.modRevision > oldHighest }, "\(response.events)")
                if response.canceled {
                    watcherOutcome = "canceled, compact revision \(response.compactRevision)"
                    break
                }
            }
        } catch let error as EtcdctlWatchError {
            watcherOutcome = error.description
        }
        XCTAssertTrue(watcherOutcome.contains("compact"), watcherOutcome)

        let range = try etcdctl.json(["get", "/drill/", "--prefix"], as: EtcdctlJSON.Range.self)
        XCTAssertEqual(range.header.revision, summary.revision)
        XCTAssertEqual(range.kvs.count, 40, "39 keys and the leased one, none written after the snapshot")
        XCTAssertFalse(range.kvs.contains { $0.key.hasPrefix("/drill/after-snapshot") })
        XCTAssertFalse(range.kvs.contains { $0.key == "/drill/key-0" })
        XCTAssertEqual(range.kvs.first { $0.key == "/drill/key-7" }?.value, "value-7")
        let leases = try etcdctl.succeed(["lease", "list"])
        XCTAssertTrue(leases.contains(leaseID), leases)

        // A watcher resuming from a revision the old cluster served is told to re-list, never
        // handed different events under the same revision numbers.
        let resumed = try etcdctl.fail(["watch", "--prefix", "/drill/", "--rev", "\(oldHighest + 1)"])
        XCTAssertTrue(resumed.stderr.contains("required revision has been compacted"), "\(resumed)")
        let put = try etcdctl.json(["put", "/drill/after-restore", "new"], as: EtcdctlJSON.Put.self)
        XCTAssertGreaterThan(put.header.revision, oldHighest)
        XCTAssertEqual(put.header.revision, summary.revision + 1)
    }

    private func cairn(_ arguments: [String]) throws -> CairnCommand.Run {
        try CairnCommand.run(arguments, scratchDirectory: cluster.directory.path)
    }
}
