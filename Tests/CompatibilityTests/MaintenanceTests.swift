import Foundation
import TestSupport
import XCTest

/// endpoint status/health/hashkv, alarm list, defrag, member list and snapshot save: what an
/// operator's scripts read from a single member.
final class MaintenanceTests: CompatibilityTestCase {
    private func status() throws -> EtcdctlJSON.EndpointStatus {
        let statuses = try etcdctl.json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self)
        XCTAssertEqual(statuses.count, 1)
        return try XCTUnwrap(statuses.first)
    }

    private func hashKV() throws -> EtcdctlJSON.EndpointHashKV.HashKV {
        let hashes = try etcdctl.json(["endpoint", "hashkv"], as: [EtcdctlJSON.EndpointHashKV].self)
        XCTAssertEqual(hashes.map(\.endpoint), [server.clientURL])
        return try XCTUnwrap(hashes.first).hashKV
    }

    func testEndpointStatusReportsVersionLeaderAndRaftPosition() throws {
        let before = try status()
        XCTAssertEqual(before.endpoint, server.clientURL)
        let version = before.status.version.split(separator: ".").compactMap { Int($0) }
        XCTAssertEqual(version.count, 3, "version \(before.status.version)")
        XCTAssertGreaterThanOrEqual(version.first ?? 0, 3)
        XCTAssert(version.first ?? 0 > 3 || version.dropFirst().first ?? 0 >= 4, "clients need a 3.4+ version: \(before.status.version)")
        XCTAssertGreaterThan(before.status.dbSize, 0)
        XCTAssertEqual(before.status.leader, before.status.header.memberID, "a single member leads itself")
        XCTAssertGreaterThanOrEqual(before.status.raftTerm, 1)
        XCTAssertEqual(before.status.raftTerm, before.status.header.raftTerm)
        XCTAssertGreaterThanOrEqual(before.status.raftIndex, 1)
        XCTAssertEqual(before.status.header.revision, 1)
        XCTAssertNil(before.status.errors)

        try put("k", "v")
        let after = try status()
        XCTAssertGreaterThan(after.status.raftIndex, before.status.raftIndex, "a put goes through the log")
        XCTAssertEqual(after.status.header.revision, 2)
        XCTAssertEqual(after.status.leader, before.status.leader)
    }

    func testEndpointHealthAndHashKV() throws {
        let health = try etcdctl.json(["endpoint", "health"], as: [EtcdctlJSON.EndpointHealth].self)
        XCTAssertEqual(health.map(\.endpoint), [server.clientURL])
        XCTAssertEqual(health.map(\.health), [true])
        XCTAssertEqual(health.first?.error, nil)

        try put("k", "v1")
        let first = try hashKV()
        XCTAssertEqual(first.header.revision, 2)
        XCTAssertEqual(first.compactRevision, -1, "etcd reports -1 until the first compaction")
        XCTAssertEqual(try hashKV().hash, first.hash, "the hash is a function of the data")
        try put("k", "v2")
        XCTAssertNotEqual(try hashKV().hash, first.hash, "a write changes the hash")
    }

    func testAlarmListIsEmptyAndDefragKeepsTheData() throws {
        let alarms = try etcdctl.json(["alarm", "list"], as: EtcdctlJSON.AlarmList.self)
        XCTAssertEqual(alarms.alarms?.count ?? 0, 0)
        XCTAssertEqual(try etcdctl.succeed(["alarm", "list"]), "", "the simple format prints nothing without alarms")

        try put("k", "v")
        try put("k", "v2")
        XCTAssertEqual(try etcdctl.succeed(["defrag"]), "Finished defragmenting etcd member[\(server.clientURL)]\n")
        XCTAssertEqual(try get("k").kvs, [kv("k", "v2", create: 2, mod: 3, version: 2)])
        XCTAssertEqual(try get("k", "--rev", "2").kvs, [kv("k", "v", create: 2, mod: 2, version: 1)], "defrag is not compaction")
    }

    func testMemberListShowsTheSingleMemberWithItsURLs() throws {
        let list = try etcdctl.json(["member", "list"], as: EtcdctlJSON.MemberList.self)
        XCTAssertEqual(list.members.count, 1)
        let member = try XCTUnwrap(list.members.first)
        XCTAssertEqual(member.id, list.header.memberID)
        XCTAssertEqual(member.name, server.name)
        XCTAssertEqual(member.peerURLs, [server.peerURL])
        XCTAssertEqual(member.clientURLs, [server.clientURL])
        XCTAssertNotEqual(member.isLearner, true)
        XCTAssertNotEqual(list.header.clusterID, 0)
    }

    func testSnapshotSaveWritesTheBackendEndedByItsSHA256() throws {
        for index in 1...50 {
            try put("snap/\(index)", String(repeating: "v", count: index))
        }
        let file = directory.file("backup.db")
        try etcdctl.succeed(["snapshot", "save", file])
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".part"), "the .part file is renamed away")
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: file), "no snapshot file at \(file)")
        XCTAssertGreaterThan(bytes.count, 32)
        let body = bytes.dropLast(32)
        let trailer = bytes.suffix(32).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(trailer, try sha256Hex(body), "the last 32 bytes are the SHA-256 of everything before them")
    }

    /// SHA-256 by coreutils' sha256sum: the test bundle links no crypto library.
    private func sha256Hex(_ data: Data) throws -> String {
        let path = directory.file("snapshot-body")
        try data.write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(text.prefix(64))
    }
}
