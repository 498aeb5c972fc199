import Backup
import Foundation
import Raft
import Storage
import TestSupport
import XCTest

@testable import Restore

/// `SnapshotRestore` from cairn archives: the new identity, the revision bump, and every way a
/// restore refuses to touch what it should not.
final class SnapshotRestoreTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cairn-restore")
    }

    override func tearDown() {
        directory?.remove()
        directory = nil
    }

    private let oldMember = MemberRecord(id: 0xABC, name: "old", peerURLs: ["http://10.0.0.1:2380"])

    /// An archive of a member's store: 30 keys (one deleted, three on a lease with a
    /// checkpointed TTL), a compaction, a NOSPACE alarm raised by the old member, and auth
    /// enabled with its root user.
    private func makeArchive() async throws -> (path: String, revision: Int64) {
        let dataDirectory = directory.file("old.data")
        try FileManager.default.createDirectory(atPath: dataDirectory + "/member/snap", withIntermediateDirectories: true)
        let store = try MVCCStore(path: OfflineSnapshot.backendPath(dataDirectory: dataDirectory))
        let oldMember = oldMember
        try await store.write { txn in
            try txn.grantLease(LeaseRecord(id: 7, ttlSeconds: 600, remainingSeconds: 12))
            try txn.putMember(oldMember)
            try txn.setClusterID(0xC1)
            try txn.activate(AlarmRecord(memberID: oldMember.id, kind: .noSpace))
            try txn.addUser(AuthUser(name: "root", passwordHash: PasswordHash.make("pw", iterations: 10)))
            try txn.grantRole(AuthRole.root, to: "root")
            try txn.enableAuth()
        }
        for index in 0..<30 {
            try await store.write { txn in
                _ = try txn.put(PutRequest(key: Array("key/\(index)".utf8), value: Array("value-\(index)".utf8),
                    lease: index < 3 ? 7 : 0))
            }
        }
        try await store.write { txn in
            _ = try txn.deleteRange(DeleteRangeRequest(key: Array("key/29".utf8)))
            try txn.compact(revision: 10)
        }
        try await store.waitForCompaction()
        let revision = try store.status().revision
        store.close()
        let path = directory.file("snap.cairn")
        _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: path, force: false, level: 3, toolVersion: "test")
        return (path, revision)
    }

    private func options(name: String = "a", bump: RevisionBump? = nil, markCompacted: Bool = false) -> RestoreOptions {
        RestoreOptions(
            initialCluster: [
                .init(name: "a", peerURLs: ["http://127.0.0.1:2380"]), .init(name: "b", peerURLs: ["http://127.0.0.1:2381"]),
            ],
            name: name, initialClusterToken: "restored", revisionBump: bump, markCompacted: markCompacted)
    }

    func testRestoredMemberHasTheNewIdentityTheKeysAndFreshLeases() async throws {
        let (archive, revision) = try await makeArchive()
        let target = directory.file("new.data")
        let summary = try await SnapshotRestore.restore(snapshot: archive, into: target, options: options())
        XCTAssertEqual(summary.snapshotFormat, "cairn")
        XCTAssertEqual(summary.revision, revision)
        XCTAssertEqual(summary.revisionBump, 0)
        XCTAssertEqual(summary.keyCount, 29)
        XCTAssertEqual(summary.alarmsCleared, ["noSpace on member abc"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".restoring"))

        let founding = try XCTUnwrap(DataDirectory.founding(options().initialCluster, name: "a", token: "restored"))
        XCTAssertEqual(summary.clusterID, String(founding.identity.clusterID, radix: 16))
        let layout = DataDirectory(root: target)
        let store = try MVCCStore(path: layout.backendPath, options: MVCCOptions(readOnly: true))
        defer { store.close() }
        let status = try store.status()
        XCTAssertEqual(status.clusterID, founding.identity.clusterID)
        XCTAssertEqual(status.consistentIndex, 1)
        XCTAssertEqual(status.compactRevision, 10)
        XCTAssertEqual(Set(try store.members()), Set(founding.records))
        XCTAssertEqual(try store.alarms(), [])
        XCTAssertEqual(try store.leases(), [LeaseRecord(id: 7, ttlSeconds: 600)])
        XCTAssertEqual(try store.keys(attachedTo: 7).count, 3)
        XCTAssertEqual(try store.authStatus().enabled, true, "users, roles and auth come back as etcd's restore keeps them")
        XCTAssertEqual(try store.user("root")?.roles, ["root"])
        let (wal, replay) = try WAL.open(directory: layout.walDirectory)
        wal.close()
        XCTAssertEqual(MemberIdentity(walMetadata: replay.metadata), founding.identity)
        XCTAssertEqual(replay.snapshot.index, 1)
        XCTAssertEqual(replay.snapshot.confState.voters, Set(founding.records.map(\.id)))
    }

    func testEveryMemberRestoredWithTheSameFlagsGetsTheSameStore() async throws {
        let (archive, _) = try await makeArchive()
        var hashes: [KVHash] = []
        var identities: [MemberIdentity] = []
        for name in ["a", "b"] {
            let target = directory.file("\(name).data")
            _ = try await SnapshotRestore.restore(snapshot: archive, into: target,
                options: options(name: name, bump: .automatic, markCompacted: true))
            let store = try MVCCStore(path: DataDirectory(root: target).backendPath, options: MVCCOptions(readOnly: true))
            hashes.append(try store.hashKV())
            store.close()
            let (wal, replay) = try WAL.open(directory: DataDirectory(root: target).walDirectory)
            wal.close()
            identities.append(try XCTUnwrap(MemberIdentity(walMetadata: replay.metadata)))
        }
        XCTAssertEqual(hashes[0], hashes[1])
        XCTAssertEqual(identities[0].clusterID, identities[1].clusterID)
        XCTAssertNotEqual(identities[0].memberID, identities[1].memberID)
    }

    func testBumpedRevisionIsCompactedAndTheNextWriteContinuesAboveIt() async throws {
        let (archive, revision) = try await makeArchive()
        let target = directory.file("new.data")
        let summary = try await SnapshotRestore.restore(snapshot: archive, into: target,
            options: options(bump: .by(5000), markCompacted: true))
        XCTAssertEqual(summary.revision, revision + 5000)
        XCTAssertEqual(summary.compactRevision, revision + 5000)
        let store = try MVCCStore(path: DataDirectory(root: target).backendPath)
        defer { store.close() }
        XCTAssertThrowsError(try store.range(RangeRequest(key: Array("key/1".utf8), revision: revision))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .compacted)
        }
        XCTAssertEqual(try store.range(RangeRequest(key: Array("key/1".utf8))).kvs.first?.value, Array("value-1".utf8))
        let put = try await store.write { txn in try txn.put(PutRequest(key: Array("next".utf8), value: [])) }
        XCTAssertEqual(put.revision, revision + 5001)
    }

    func testAutomaticBumpIsAtLeastOneBillionAndAtLeastTheRevision() {
        XCTAssertEqual(RevisionBump.automatic.amount(forSnapshotRevision: 42), 1_000_000_000)
        XCTAssertEqual(RevisionBump.automatic.amount(forSnapshotRevision: 3_000_000_000), 3_000_000_000)
        XCTAssertEqual(RevisionBump(argument: "auto"), .automatic)
        XCTAssertEqual(RevisionBump(argument: "12"), .by(12))
        XCTAssertNil(RevisionBump(argument: "0"))
        XCTAssertNil(RevisionBump(argument: "-5"))
        XCTAssertNil(RevisionBump(argument: "lots"))
    }

    func testNonEmptyTargetIsRefusedAndLeftAsItWas() async throws {
        let (archive, _) = try await makeArchive()
        let target = directory.file("busy.data")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: target + "/keep"))
        await assertRestoreFails(archive, into: target, code: .targetNotEmpty, mentioning: "not empty")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), ["keep"])
        XCTAssertEqual(FileManager.default.contents(atPath: target + "/keep"), Data("precious".utf8))
    }

    func testEmptyTargetDirectoryIsFilled() async throws {
        let (archive, _) = try await makeArchive()
        let target = directory.file("empty.data")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        _ = try await SnapshotRestore.restore(snapshot: archive, into: target, options: options())
        XCTAssertTrue(FileManager.default.fileExists(atPath: DataDirectory(root: target).backendPath))
    }

    func testCorruptArchiveIsRefusedWithoutCreatingTheTarget() async throws {
        let (archive, _) = try await makeArchive()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes[bytes.count / 2] ^= 0xFF
        let damaged = directory.file("damaged.cairn")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let target = directory.file("new.data")
        await assertRestoreFails(damaged, into: target, code: .invalidSnapshot, mentioning: "does not verify")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".restoring"))
    }

    func testFileThatIsNoSnapshotIsNamedAsSuch() async throws {
        let path = directory.file("notes.txt")
        try Data("not a snapshot at all".utf8).write(to: URL(fileURLWithPath: path))
        await assertRestoreFails(path, into: directory.file("new.data"), code: .invalidSnapshot,
            mentioning: "neither a cairn snapshot archive")
    }

    func testScratchLeftByACrashedRestoreIsClearedButAnyOtherIsRefused() async throws {
        let (archive, _) = try await makeArchive()
        let target = directory.file("new.data")
        try FileManager.default.createDirectory(atPath: target + ".restoring/member", withIntermediateDirectories: true)
        await assertRestoreFails(archive, into: target, code: .targetNotEmpty, mentioning: "was not left by a cairn restore")
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + ".restoring/member"))

        XCTAssertTrue(FileManager.default.createFile(atPath: target + ".restoring/" + SnapshotRestore.scratchMarker, contents: nil))
        _ = try await SnapshotRestore.restore(snapshot: archive, into: target, options: options())
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".restoring"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + "/" + SnapshotRestore.scratchMarker))
    }

    func testMembershipFlagsThatDoNotNameThisMemberAreRefused() async throws {
        let (archive, _) = try await makeArchive()
        await assertRestoreFails(archive, into: directory.file("x.data"), options: options(name: "c"),
            code: .invalidOptions, mentioning: "no member named \"c\"")
        await assertRestoreFails(archive, into: directory.file("y.data"), options: options(markCompacted: true),
            code: .invalidOptions, mentioning: "--mark-compacted needs --bump-revision")
    }

    private func assertRestoreFails(_ snapshot: String, into target: String, options: RestoreOptions? = nil,
        code: RestoreError.Code, mentioning text: String, line: UInt = #line) async
    {
        do {
            _ = try await SnapshotRestore.restore(snapshot: snapshot, into: target, options: options ?? self.options())
            XCTFail("the restore succeeded", line: line)
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, code, "\(error)", line: line)
            XCTAssertTrue(error.message.contains(text), error.message, line: line)
        } catch {
            XCTFail("not a RestoreError: \(error)", line: line)
        }
    }
}
