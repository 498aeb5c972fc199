import API
import Foundation
import Linearizability
import TestSupport
import XCTest

/// Jepsen-style runs: clients on a few keys and watchers on their prefix while a ``Nemesis``
/// kills, pauses, crashes at failpoints, snapshots, replaces and moves the leadership of members
/// of a 3- or 5-member cluster; then the history must be linearizable, every acknowledged write
/// must be in the cluster's log, and every watcher must have seen that log exactly once, in
/// order, without gaps, across its reconnects.
///
/// `make test` runs bounded runs with a fixed seed; `make robustness` runs longer ones
/// (CAIRN_ROBUSTNESS_SECONDS, CAIRN_ROBUSTNESS_SEED).
final class RobustnessTests: ClusterTestCase {
    private static let prefix = "rob/"
    private static let keys = (0..<5).map { "\(prefix)k\($0)" }

    private func seconds(default value: Int) -> Int {
        Int(ProcessInfo.processInfo.environment["CAIRN_ROBUSTNESS_SECONDS"] ?? "") ?? value
    }
    private var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["CAIRN_ROBUSTNESS_SEED"] ?? "") ?? 1 }

    /// Raft snapshots every 100 entries, keeping 20 for catching up: a member stopped for 140
    /// entries needs a snapshot.
    private static let snapshotFlags = ["--snapshot-count", "100", "--experimental-snapshot-catchup-entries", "20"]
    private static let snapshotDistance: UInt64 = 140

    func testThreeMembersUnderFaultsStayLinearizable() async throws {
        try await runUnderFaults(members: 3, seconds: seconds(default: 45))
    }

    func testFiveMembersUnderFaultsStayLinearizable() async throws {
        try await runUnderFaults(members: 5, seconds: seconds(default: 30))
    }

    private func runUnderFaults(members: Int, seconds: Int) async throws {
        let binary = try ServerBinary.resolve(environmentVariable: "CAIRN_CLUSTER_SERVER")
        let cairn = binary.kind != .etcd
        let cluster = try LocalCluster(size: members, extraArguments: cairn ? Self.snapshotFlags : [], failpointSwitches: cairn,
            partitionable: true)
        self.cluster = cluster
        try cluster.start()
        let endpoints = cluster.members.map(\.clientURL)
        let workload = RobustnessWorkload(endpoints: endpoints, keys: Self.keys)
        let startRevision = try await currentRevision(workload) + 1
        let watchers = [WatchRecorder(endpoints: endpoints, prefix: Self.prefix, startRevision: startRevision),
            WatchRecorder(endpoints: endpoints.reversed(), prefix: Self.prefix, startRevision: startRevision)]
        let watching = watchers.map { watcher in Task { await watcher.run() } }
        defer { watching.forEach { $0.cancel() } }

        // etcd release builds have no failpoints, and 3.4 keeps 5000 entries for catching up.
        let faults = Nemesis.Fault.allCases.filter { cairn || !$0.needsFailpoints }
        let nemesis = Nemesis(cluster: cluster, seed: seed, faults: faults, snapshotDistance: Self.snapshotDistance)
        let deadline = ContinuousClock.now + .seconds(seconds)
        async let faulting: Void = nemesis.run(until: deadline)
        try await workload.run(clients: 8, seed: seed, until: deadline)
        try await faulting

        // The cluster's own log of the run: a fresh watch from the start, once everything settled.
        let endRevision = try await currentRevision(workload)
        let log = WatchRecorder(endpoints: endpoints, prefix: Self.prefix, startRevision: startRevision)
        let reading = Task { await log.run() }
        defer { reading.cancel() }
        let complete = await log.waitUntil(revision: endRevision, timeout: .seconds(30))
        XCTAssertTrue(complete, "the cluster's log from revision \(startRevision) did not reach \(endRevision)")
        let writes = log.events.map { WriteRecord(revision: $0.revision, key: $0.key, kind: $0.kind, value: $0.value) }

        let history = workload.history
        let answered = history.filter { $0.output != nil }.count
        let counts = faults.map { "\($0.rawValue) \(nemesis.count($0))" }.joined(separator: ", ")
        print("robustness \(members) members, seed \(seed), \(seconds) s: \(history.count) operations (\(answered) answered), "
            + "\(writes.count) writes in the log, \(nemesis.injected.count) faults (\(counts)): "
            + nemesis.injected.joined(separator: "; "))
        XCTAssertGreaterThan(answered, 200, "the run made too little progress to prove anything")
        XCTAssertGreaterThanOrEqual(nemesis.injected.count, max(2, seconds / 15), "too few faults were injected")

        let verdict = Linearizability.check(history, timeout: .seconds(120))
        XCTAssertEqual(verdict.verdict, .linearizable, "\(verdict)")

        let logged = Set(writes)
        for operation in history {
            guard let write = WriteRecord(operation) else { continue }
            XCTAssertTrue(logged.contains(write), "an acknowledged write is missing from the cluster's log: \(write)")
        }
        for (index, watcher) in watchers.enumerated() {
            _ = await watcher.waitUntil(revision: endRevision, timeout: .seconds(30))
            let problems = WatchCheck.check(received: watcher.events.filter { $0.revision <= endRevision }, writes: writes,
                startRevision: startRevision, keyPrefix: Self.prefix)
            XCTAssertEqual(problems, [], "watcher \(index) (\(watcher.reconnects) reconnects)")
        }
    }

    /// The checker can fail: with the `skip-read-index` failpoint a member answers linearizable
    /// reads from its own state, and a follower that was paused while a write committed answers
    /// the value from before it.
    func testTheCheckerCatchesStaleReadsFromAFollowerWithoutReadIndex() async throws {
        let cluster = try LocalCluster(size: 3, environment: ["CAIRN_FAILPOINTS": "skip-read-index"])
        self.cluster = cluster
        try XCTSkipIf(cluster.binary.kind == .etcd, "etcd has no skip-read-index failpoint")
        try cluster.start()
        let workload = RobustnessWorkload(endpoints: cluster.members.map(\.clientURL), keys: ["stale"])
        guard let leader = try cluster.waitForLeader() else { return XCTFail("no leader") }
        let leaderIndex = cluster.members.firstIndex { $0 === leader }!
        let followerIndex = (leaderIndex + 1) % cluster.members.count
        guard let followerPID = cluster.members[followerIndex].pid else { return XCTFail("the follower is not running") }
        let found = try await workload.withMembers { kvs in
            for attempt in 1...20 {
                kill(followerPID, SIGSTOP)
                await workload.perform(.put(value: "v\(attempt)"), key: "stale", client: 0, on: kvs[leaderIndex])
                kill(followerPID, SIGCONT)
                await workload.perform(.get, key: "stale", client: 1, on: kvs[followerIndex])
                if Linearizability.check(workload.history).verdict == .violation { return true }
            }
            return false
        }
        XCTAssertTrue(found, "20 reads from a follower resumed after a write found no stale value")
        let result = Linearizability.check(workload.history)
        XCTAssertEqual(result.violations.first?.key, "stale")
        print(result)
    }

    func testAnUnknownFailpointOrAnExposedSwitchStopsTheServerFromStarting() throws {
        let directory = try TemporaryDirectory(prefix: "cairn-failpoint")
        defer { directory.remove() }
        let run = try CairnCommand.run(["server", "--data-dir", directory.file("d")], scratchDirectory: directory.path,
            environment: ProcessInfo.processInfo.environment.merging(["CAIRN_FAILPOINTS": "skip-read-idx"]) { $1 })
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("CAIRN_FAILPOINTS names an unknown failpoint 'skip-read-idx'"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("d")), "nothing was created")
        let exposed = try CairnCommand.run(["server", "--data-dir", directory.file("d")], scratchDirectory: directory.path,
            environment: ProcessInfo.processInfo.environment.merging(["CAIRN_FAILPOINTS_HTTP": "0.0.0.0:22381"]) { $1 })
        XCTAssertNotEqual(exposed.status, 0)
        XCTAssertTrue(exposed.stderr.contains("the failpoint switch binds only a loopback address"), exposed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("d")), "nothing was created")
    }

    private func currentRevision(_ workload: RobustnessWorkload) async throws -> Int64 {
        try await workload.withMembers { kvs in
            var request = Etcdserverpb_RangeRequest()
            request.key = Data("anything".utf8)
            return try await kvs[0].range(request).header.revision
        }
    }
}
