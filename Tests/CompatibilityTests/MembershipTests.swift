import Foundation
import TestSupport
import XCTest

/// Membership changes on a single member, as etcd answers them: a learner is added, not
/// promoted until in sync, and removed; peer URLs are updated; removing the last member is
/// refused; everything survives a restart. A second voter is accepted and the cluster waits
/// for it to start.
final class MembershipTests: CompatibilityTestCase {
    private func members() throws -> [EtcdctlJSON.MemberList.Member] {
        try etcdctl.json(["member", "list"], as: EtcdctlJSON.MemberList.self).members
    }

    private func assertRefused(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try etcdctl.fail(arguments)
        XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)", file: file, line: line)
    }

    func testSingleMemberAddsAndRemovesALearnerButRefusesToLoseQuorum() throws {
        let ports = try FreePort.loopback(count: 3)
        let (learnerURL, voterURL, movedURL) = ("http://127.0.0.1:\(ports[0])", "http://127.0.0.1:\(ports[1])", "http://127.0.0.1:\(ports[2])")
        let me = try XCTUnwrap(members().first)

        try assertRefused(["member", "add", "same", "--learner", "--peer-urls=\(server.peerURL)"],
            "etcdserver: Peer URLs already exists")
        try assertRefused(["member", "remove", me.hexID], "etcdserver: re-configuration failed due to not enough started members")
        try assertRefused(["member", "remove", "1234"], "etcdserver: member not found")

        let added = try etcdctl.succeed(["member", "add", "learner", "--learner", "--peer-urls=\(learnerURL)"])
        XCTAssertTrue(added.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), added)
        XCTAssertTrue(added.contains("learner=\(learnerURL)"), added)
        let withLearner = try members()
        XCTAssertEqual(withLearner.count, 2)
        let learner = try XCTUnwrap(withLearner.first { $0.peerURLs == [learnerURL] })
        XCTAssertEqual(learner.isLearner, true)
        XCTAssertEqual(learner.name, "", "a member added at runtime is unnamed until it starts")
        XCTAssertEqual(learner.clientURLs, [])

        try assertRefused(["member", "add", "another", "--learner", "--peer-urls=\(voterURL)"],
            "etcdserver: too many learner members in cluster")
        try assertRefused(["member", "promote", learner.hexID],
            "etcdserver: can only promote a learner member which is in sync with leader")
        try assertRefused(["member", "promote", me.hexID], "etcdserver: can only promote a learner member")

        try etcdctl.succeed(["member", "update", me.hexID, "--peer-urls=\(movedURL)"])
        XCTAssertEqual(try members().first { $0.id == me.id }?.peerURLs, [movedURL])

        // Membership is state: it is the same after a restart.
        server.stop()
        try server.start()
        try server.waitUntilHealthy(using: etcdctl)
        XCTAssertEqual(try members().map(\.id).sorted(), [me.id, learner.id].sorted())
        XCTAssertEqual(try members().first { $0.id == me.id }?.peerURLs, [movedURL])

        try etcdctl.succeed(["member", "remove", learner.hexID])
        XCTAssertEqual(try members().map(\.id), [me.id])
        try put("still", "writable")
        XCTAssertEqual(try get("still").kvs.map(\.value), ["writable"])
    }

    func testASecondVoterIsAcceptedAndTheClusterWaitsForItToStart() throws {
        let ports = try FreePort.loopback(count: 2)
        let (voterURL, thirdURL) = ("http://127.0.0.1:\(ports[0])", "http://127.0.0.1:\(ports[1])")
        let me = try XCTUnwrap(members().first)
        let added = try etcdctl.succeed(["member", "add", "second", "--peer-urls=\(voterURL)"])
        XCTAssertTrue(added.contains("ETCD_INITIAL_CLUSTER=\""), added)
        XCTAssertTrue(added.contains("second=\(voterURL)"), added)
        XCTAssertTrue(added.contains("\(server.name)=\(server.peerURL)"), added)
        let listed = try members()
        XCTAssertEqual(listed.count, 2)
        let second = try XCTUnwrap(listed.first { $0.id != me.id })
        XCTAssertEqual(second.name, "")
        XCTAssertNotEqual(second.isLearner, true)
        // One of two voters runs: no quorum started for a third, and no write commits.
        try assertRefused(["member", "add", "third", "--peer-urls=\(thirdURL)"],
            "etcdserver: re-configuration failed due to not enough started members")
        let put = try etcdctl.run(["put", "k", "v", "--command-timeout=2s"])
        XCTAssertFalse(put.succeeded, "a write committed without a quorum: \(put)")
    }
}
