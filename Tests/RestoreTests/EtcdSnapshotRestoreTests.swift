import Backup
import Foundation
import Storage
import TestSupport
import XCTest

@testable import Restore

/// Migration from etcd: the snapshot a real etcd 3.4.23 wrote (Fixtures/make-fixture.sh) restores
/// into a cairn data-dir holding what etcdctl read from that etcd, revisions included.
final class EtcdSnapshotRestoreTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cairn-etcd-restore")
    }

    override func tearDown() {
        directory?.remove()
        directory = nil
    }

    private func options(bump: RevisionBump? = nil, markCompacted: Bool = false, skipHashCheck: Bool = false)
        -> RestoreOptions
    {
        RestoreOptions(initialCluster: [.init(name: "a", peerURLs: ["http://127.0.0.1:2380"])], name: "a",
            initialClusterToken: "migrated", revisionBump: bump, markCompacted: markCompacted, skipHashCheck: skipHashCheck)
    }

    /// Every live key of the restored store equals what `etcdctl get` printed from etcd.
    private func assertHoldsTheFixture(_ dataDirectory: String, line: UInt = #line) throws {
        let expected = try Fixture.expected()
        let store = try MVCCStore(path: DataDirectory(root: dataDirectory).backendPath, options: MVCCOptions(readOnly: true))
        defer { store.close() }
        let status = try store.status()
        XCTAssertEqual(status.revision, expected.headerRevision, line: line)
        XCTAssertEqual(status.compactRevision, expected.compactRevision, line: line)
        let all = try store.range(RangeRequest(key: [0], rangeEnd: [0]))
        XCTAssertEqual(all.kvs.count, expected.range.kvs.count, line: line)
        var restored: [[UInt8]: KeyValue] = [:]
        for kv in all.kvs { restored[kv.key] = kv }
        for kv in expected.range.kvs {
            let key = try XCTUnwrap(Data(base64Encoded: kv.key)).map { $0 }
            let name = String(decoding: key, as: UTF8.self)
            let found = try XCTUnwrap(restored[key], name, line: line)
            XCTAssertEqual(found.createRevision, kv.create_revision, name, line: line)
            XCTAssertEqual(found.modRevision, kv.mod_revision, name, line: line)
            XCTAssertEqual(found.version, kv.version, name, line: line)
            XCTAssertEqual(found.lease, kv.lease ?? 0, name, line: line)
            if let value = kv.value {
                XCTAssertEqual(found.value, try XCTUnwrap(Data(base64Encoded: value)).map { $0 }, name, line: line)
            }
        }
        let withKeys = try XCTUnwrap(Int64(expected.leases.withKeysHex, radix: 16))
        let bare = try XCTUnwrap(Int64(expected.leases.bareHex, radix: 16))
        XCTAssertEqual(Set(try store.leases()), [
            LeaseRecord(id: withKeys, ttlSeconds: expected.leases.withKeysTimeToLive.grantedTTL),
            LeaseRecord(id: bare, ttlSeconds: expected.leases.bareTimeToLive.grantedTTL),
        ], line: line)
        let attached = Set(try store.keys(attachedTo: withKeys).map { String(decoding: $0, as: UTF8.self) })
        let listed = try (expected.leases.withKeysTimeToLive.keys ?? []).map {
            String(decoding: try XCTUnwrap(Data(base64Encoded: $0)), as: UTF8.self)
        }
        XCTAssertEqual(attached, Set(listed), line: line)
        XCTAssertEqual(try store.keys(attachedTo: bare), [], line: line)
        // History the compaction kept reads as etcd served it.
        XCTAssertThrowsError(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: expected.compactRevision - 1)),
            line: line)
        XCTAssertNoThrow(try store.range(RangeRequest(key: [0], rangeEnd: [0], revision: expected.compactRevision)),
            line: line)
    }

    func testEtcdctlSnapshotFileRestoresWithItsKeysRevisionsAndLeases() async throws {
        let target = directory.file("migrated.data")
        let summary = try await SnapshotRestore.restore(snapshot: Fixture.snapshotPath, into: target, options: options())
        XCTAssertEqual(summary.snapshotFormat, "etcd")
        XCTAssertEqual(summary.keyCount, 206)
        XCTAssertEqual(summary.leaseCount, 2)
        try assertHoldsTheFixture(target)
        XCTAssertFalse(FileManager.default.fileExists(atPath: DataDirectory(root: target).snapshotDirectory + "/etcd.bolt"))
    }

    func testEtcdBackendInACairnArchiveRestoresTheSame() async throws {
        let length = try EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.snapshotPath)).prefix(length)
        let archive = directory.file("etcd.cairn")
        let writer = try SnapshotArchiveWriter(path: archive, force: false)
        try bytes.withUnsafeBytes { try writer.appendDatabase($0) }
        let expected = try Fixture.expected()
        _ = try writer.finish(manifest: SnapshotManifest(source: "etcd", clusterID: 1, memberID: 2, memberName: "fixture",
            revision: expected.headerRevision, compactRevision: expected.compactRevision, raftIndex: 0, raftTerm: 0,
            keyCount: 206, kvHash: 0, serverVersion: "3.4.23", toolVersion: "test"))
        let target = directory.file("migrated.data")
        let summary = try await SnapshotRestore.restore(snapshot: archive, into: target,
            options: options(bump: .by(100), markCompacted: true))
        XCTAssertEqual(summary.snapshotFormat, "etcd-archive")
        XCTAssertEqual(summary.snapshotRevision, expected.headerRevision)
        XCTAssertEqual(summary.revision, expected.headerRevision + 100)
        XCTAssertEqual(summary.compactRevision, expected.headerRevision + 100)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: DataDirectory(root: target).snapshotDirectory)
            .filter { !$0.hasPrefix("db") }, [])
    }

    func testFileWithoutItsTrailerNeedsSkipHashCheck() async throws {
        let length = try EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath)
        let copied = directory.file("member-snap-db")
        try Data(contentsOf: URL(fileURLWithPath: Fixture.snapshotPath)).prefix(length).write(to: URL(fileURLWithPath: copied))
        do {
            _ = try await SnapshotRestore.restore(snapshot: copied, into: directory.file("a.data"), options: options())
            XCTFail("a file without a trailer restored without --skip-hash-check")
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, .invalidSnapshot)
            XCTAssertTrue(error.message.contains("--skip-hash-check"), error.message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("a.data")))
        let target = directory.file("b.data")
        _ = try await SnapshotRestore.restore(snapshot: copied, into: target, options: options(skipHashCheck: true))
        try assertHoldsTheFixture(target)
    }

    func testDamagedFileIsRefusedByItsTrailer() async throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.snapshotPath))
        bytes[bytes.count / 2] ^= 0x01
        let damaged = directory.file("damaged.db")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        do {
            _ = try await SnapshotRestore.restore(snapshot: damaged, into: directory.file("a.data"), options: options())
            XCTFail("a damaged etcd snapshot restored")
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, .invalidSnapshot)
            XCTAssertTrue(error.message.contains("is damaged"), error.message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("a.data")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("a.data.restoring")))
    }

    func testSmallBatchesImportTheSameStore() async throws {
        // The walk hands over many batches (the fixture alone fits in one): same result.
        let target = directory.file("migrated.data")
        let store = directory.file("batched.db")
        let length = try EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath)
        let imported = try await EtcdImport.run(boltFile: Fixture.snapshotPath, length: length, into: store,
            progress: { _ in }, batchVersionsMax: 7)
        let expected = try Fixture.expected()
        XCTAssertEqual(imported.revision, expected.headerRevision)
        _ = try await SnapshotRestore.restore(snapshot: Fixture.snapshotPath, into: target, options: options())
        let batched = try MVCCStore(path: store, options: MVCCOptions(readOnly: true))
        defer { batched.close() }
        let whole = try MVCCStore(path: DataDirectory(root: target).backendPath, options: MVCCOptions(readOnly: true))
        defer { whole.close() }
        XCTAssertEqual(try batched.hashKV(revision: expected.headerRevision), try whole.hashKV(revision: expected.headerRevision))
    }

    func testCairnServerServesAnEtcdSnapshotRestoredWithTheCLI() throws {
        let expected = try Fixture.expected()
        let ports = try FreePort.loopback(count: 2)
        let server = ServerProcess(binary: try ServerBinary.resolve(environmentVariable: "CAIRN_RESTORE_SERVER"),
            name: "migrated", directory: directory, clientPort: ports[0], peerPort: ports[1])
        let restored = try CairnCommand.run([
            "snapshot", "restore", Fixture.snapshotPath, "--data-dir", server.dataDirectory, "--name", server.name,
            "--initial-cluster", server.initialCluster, "--initial-cluster-token", server.clusterToken,
            "--initial-advertise-peer-urls", server.peerURL, "--bump-revision", "auto", "--mark-compacted",
        ], scratchDirectory: directory.path)
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(restored.stdout.contains("etcd, revision \(expected.headerRevision)"), restored.stdout)
        try server.start()
        defer { server.stop() }
        let etcdctl = try Etcdctl(endpoints: [server.clientURL], scratchDirectory: directory.path)
        try server.waitUntilHealthy(using: etcdctl)

        let range = try etcdctl.json(["get", "/registry/pods/ns/p000"], as: EtcdctlJSON.Range.self)
        let original = try XCTUnwrap(expected.range.kvs.first {
            $0.key == Data("/registry/pods/ns/p000".utf8).base64EncodedString()
        })
        XCTAssertEqual(range.header.revision, expected.headerRevision + 1_000_000_000)
        XCTAssertEqual(range.kvs.first?.modRevision, original.mod_revision)
        XCTAssertEqual(range.kvs.first.map { Data($0.value.utf8).base64EncodedString() }, original.value)
        let count = try etcdctl.json(["get", "", "--from-key", "--keys-only"], as: EtcdctlJSON.Range.self)
        XCTAssertEqual(count.count, Int64(expected.range.kvs.count))
        let leases = try etcdctl.succeed(["lease", "list"])
        XCTAssertTrue(leases.contains(expected.leases.withKeysHex) && leases.contains(expected.leases.bareHex), leases)
    }
}
