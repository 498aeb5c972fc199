import API
import Foundation
import XCTest

@testable import Restore

/// Pins the reader against what a real etcd 3.4.23 reported about the same data (expected.json).
final class EtcdBackendTests: XCTestCase {
    private func openBackend() throws -> EtcdBackend {
        EtcdBackend(file: try BoltFile(path: Fixture.snapshotPath, lengthBytes: EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath)))
    }

    /// The newest version of every key, as etcd's index would compute it from the key bucket.
    private struct Latest {
        var version: EtcdKeyVersion
        var kv: Mvccpb_KeyValue
    }

    private func latestVersions(_ backend: EtcdBackend) throws -> [[UInt8]: Latest] {
        var latest: [[UInt8]: Latest] = [:]
        var previous: (Int64, Int64)?
        try backend.forEachKeyVersion { version in
            if let previous {
                XCTAssertTrue(previous < (version.main, version.sub), "key versions come in revision order")
            }
            previous = (version.main, version.sub)
            let kv = try Mvccpb_KeyValue(serializedBytes: version.value)
            XCTAssertFalse(kv.key.isEmpty, "KeyValue at revision \(version.main) has a key")
            latest[[UInt8](kv.key)] = Latest(version: version, kv: kv)
            return true
        }
        return latest
    }

    func testLiveKeysAtFinalRevisionMatchEtcdctlGet() throws {
        let expected = try Fixture.expected()
        let live = try latestVersions(try openBackend()).filter { !$0.value.version.isTombstone }

        let expectedKeys = Set(try expected.range.kvs.map { try XCTUnwrap(Data(base64Encoded: $0.key)).map { $0 } })
        XCTAssertEqual(Set(live.keys), expectedKeys)
        XCTAssertEqual(live.count, 206)
        for kv in expected.range.kvs {
            let key = try XCTUnwrap(Data(base64Encoded: kv.key)).map { $0 }
            let name = String(decoding: key, as: UTF8.self)
            let found = try XCTUnwrap(live[key], name)
            XCTAssertEqual(found.version.main, kv.mod_revision, name)
            XCTAssertEqual(found.kv.modRevision, kv.mod_revision, name)
            XCTAssertEqual(found.kv.createRevision, kv.create_revision, name)
            XCTAssertEqual(found.kv.version, kv.version, name)
            XCTAssertEqual(found.kv.lease, kv.lease ?? 0, name)
            if let value = kv.value {
                XCTAssertEqual([UInt8](found.kv.value), try XCTUnwrap(Data(base64Encoded: value)).map { $0 }, name)
            }
        }
    }

    func testDeletedKeysEndInTombstones() throws {
        let all = try latestVersions(try openBackend())
        let pod199 = try XCTUnwrap(all[Array("/registry/pods/ns/p199".utf8)], "deleted after the compaction")
        XCTAssertTrue(pod199.version.isTombstone)
        XCTAssertTrue(pod199.kv.value.isEmpty, "a tombstone's KeyValue holds only the key")
        let phoenix = try XCTUnwrap(all[Array("/registry/services/ns/phoenix".utf8)])
        XCTAssertFalse(phoenix.version.isTombstone)
        XCTAssertEqual([UInt8](phoenix.kv.value), Array("second-life".utf8))
        XCTAssertEqual(phoenix.kv.version, 1, "re-created keys start again at version 1")
    }

    func testOverflowValueReadsWholeAndMatchesItsHash() throws {
        let expected = try Fixture.expected()
        let key = try XCTUnwrap(Data(base64Encoded: expected.bigValue.keyBase64)).map { $0 }
        let big = try XCTUnwrap(try latestVersions(try openBackend())[key])
        let value = [UInt8](big.kv.value)
        XCTAssertEqual(value.count, expected.bigValue.length)
        XCTAssertGreaterThan(value.count, 16 * 4096, "spans many overflow pages")
        XCTAssertEqual(value, Fixture.bigValue())
        try Fixture.withTemporaryDirectory { directory in
            let path = try Fixture.write(value, named: "big.value", in: directory)
            XCTAssertEqual(hexString(try Fixture.sha256(path: path, length: value.count)), expected.bigValue.sha256)
        }
    }

    func testLatestRevisionIsEtcdsHeaderRevision() throws {
        let expected = try Fixture.expected()
        let backend = try openBackend()
        XCTAssertEqual(try backend.latestRevision(), expected.headerRevision)
        XCTAssertEqual(try EtcdBackend.latestRevision(in: backend.file), expected.snapshotStatus.revision)
        var last: Int64 = 0
        try backend.forEachKeyVersion { last = $0.main; return true }
        XCTAssertEqual(last, expected.finalRevision, "seeking the end agrees with a full scan")
    }

    func testCompactionRevisionsAreTheOneCompactedAt() throws {
        let expected = try Fixture.expected()
        let backend = try openBackend()
        XCTAssertEqual(try backend.finishedCompactRevision(), expected.compactRevision)
        XCTAssertEqual(try backend.scheduledCompactRevision(), expected.compactRevision)
        var oldest = Int64.max
        try backend.forEachKeyVersion { oldest = min(oldest, $0.main); return true }
        XCTAssertGreaterThan(oldest, 1, "compaction removed the first revisions")
    }

    func testConsistentIndexPresentAndTermAbsentInEtcd34() throws {
        let expected = try Fixture.expected()
        let backend = try openBackend()
        let index = try XCTUnwrap(try backend.consistentIndex())
        XCTAssertGreaterThan(index, UInt64(expected.headerRevision), "every put and delete was a raft entry")
        XCTAssertLessThanOrEqual(index, try XCTUnwrap(expected.endpointStatus.first).Status.raftAppliedIndex)
        XCTAssertNil(try backend.term(), "etcd 3.4 does not write the term")
    }

    func testLeasesFoundWithTheirIdsAndTTLs() throws {
        let expected = try Fixture.expected()
        var leases: [Int64: Leasepb_Lease] = [:]
        try openBackend().forEachLease { id, value in
            leases[id] = try Leasepb_Lease(serializedBytes: value)
            return true
        }
        let withKeys = try XCTUnwrap(Int64(expected.leases.withKeysHex, radix: 16))
        let bare = try XCTUnwrap(Int64(expected.leases.bareHex, radix: 16))
        XCTAssertEqual(Set(leases.keys), [withKeys, bare])
        XCTAssertEqual(withKeys, expected.leases.withKeysTimeToLive.id)
        XCTAssertEqual(leases[withKeys]?.id, withKeys)
        XCTAssertEqual(leases[withKeys]?.ttl, expected.leases.withKeysTimeToLive.grantedTTL)
        XCTAssertEqual(leases[bare]?.ttl, expected.leases.bareTimeToLive.grantedTTL)
        XCTAssertEqual(expected.leases.withKeysTimeToLive.keys?.count, 3)
        XCTAssertNil(expected.leases.bareTimeToLive.keys)
    }

    func testMembersBucketHoldsTheOneMember() throws {
        let expected = try Fixture.expected()
        var members: [String: [UInt8]] = [:]
        try openBackend().forEachMember { id, json in
            members[id] = json
            return true
        }
        let memberID = try XCTUnwrap(expected.endpointStatus.first).Status.header.member_id
        XCTAssertEqual(Array(members.keys), [String(memberID, radix: 16)])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(members.first?.value))) as? [String: Any])
        XCTAssertEqual(json["name"] as? String, "fixture")
        XCTAssertNotNil(json["peerURLs"])
    }
}
