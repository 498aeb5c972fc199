import Foundation
import TestSupport
import XCTest

/// Members on https peer URLs with `--peer-client-cert-auth`, as a kubeadm-style cluster runs:
/// they elect a leader, replicate and list each other over TLS.
final class PeerTLSTests: ClusterTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../CompatibilityTests/Fixtures/tls").standardizedFileURL.path

    func testMembersReplicateOverMutualTLS() throws {
        cluster = try LocalCluster(size: 3)
        let https = cluster.members.map { $0.peerURL.replacingOccurrences(of: "http://", with: "https://") }
        let initialCluster = zip(cluster.members, https).map { "\($0.name)=\($1)" }.joined(separator: ",")
        for (member, url) in zip(cluster.members, https) {
            member.initialCluster = initialCluster
            member.extraArguments += [
                "--listen-peer-urls", url, "--initial-advertise-peer-urls", url,
                "--peer-cert-file", Self.fixtures + "/server.pem", "--peer-key-file", Self.fixtures + "/server-key.pem",
                "--peer-trusted-ca-file", Self.fixtures + "/ca.pem", "--peer-client-cert-auth",
            ]
        }
        try cluster.start()
        XCTAssertNotNil(try cluster.waitForLeader())

        let first = try cluster.etcdctl(cluster.members[0])
        _ = try first.succeed(["put", "over", "mutual-tls"])
        let last = try cluster.etcdctl(cluster.members[2])
        XCTAssertEqual(try last.succeed(["get", "over", "--print-value-only"]), "mutual-tls\n")

        let members = try first.json(["member", "list"], as: EtcdctlJSON.MemberList.self)
        XCTAssertEqual(Set(members.members.flatMap(\.peerURLs)), Set(https))
    }
}
