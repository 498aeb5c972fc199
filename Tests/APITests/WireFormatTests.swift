import API
import Foundation
import GRPCCore
import SwiftProtobuf
import XCTest

/// Pins the generated code to etcd's wire format: every expected byte string below is written
/// out by hand from etcd's field numbers (tag byte = field number << 3 | wire type), so a
/// renumbered or retyped field in Protos/ fails here before any client notices.
final class WireFormatTests: XCTestCase {
    // MARK: KV

    func testRangeRequestUsesEtcdFieldNumbers() throws {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data("a".utf8)
        request.rangeEnd = Data("b".utf8)
        request.limit = 5
        request.revision = 7
        request.keysOnly = true

        try assertWire(request, [
            0x0A, 0x01, 0x61,  // 1 key "a"
            0x12, 0x01, 0x62,  // 2 range_end "b"
            0x18, 0x05,  // 3 limit
            0x20, 0x07,  // 4 revision
            0x40, 0x01,  // 8 keys_only
        ])
    }

    func testRangeRequestCarriesAllThirteenFields() throws {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data("k".utf8)
        request.rangeEnd = Data([0])
        request.limit = 1
        request.revision = 2
        request.sortOrder = .descend
        request.sortTarget = .mod
        request.serializable = true
        request.keysOnly = true
        request.countOnly = true
        request.minModRevision = 10
        request.maxModRevision = 11
        request.minCreateRevision = 12
        request.maxCreateRevision = 13

        try assertWire(request, [
            0x0A, 0x01, 0x6B,  // 1 key
            0x12, 0x01, 0x00,  // 2 range_end "\0"
            0x18, 0x01,  // 3 limit
            0x20, 0x02,  // 4 revision
            0x28, 0x02,  // 5 sort_order DESCEND
            0x30, 0x03,  // 6 sort_target MOD
            0x38, 0x01,  // 7 serializable
            0x40, 0x01,  // 8 keys_only
            0x48, 0x01,  // 9 count_only
            0x50, 0x0A,  // 10 min_mod_revision
            0x58, 0x0B,  // 11 max_mod_revision
            0x60, 0x0C,  // 12 min_create_revision
            0x68, 0x0D,  // 13 max_create_revision
        ])
    }

    func testPutRequestUsesEtcdFieldNumbers() throws {
        var request = Etcdserverpb_PutRequest()
        request.key = Data("a".utf8)
        request.value = Data("1".utf8)
        request.lease = 3
        request.prevKv = true
        request.ignoreValue = true
        request.ignoreLease = true

        try assertWire(request, [
            0x0A, 0x01, 0x61,  // 1 key
            0x12, 0x01, 0x31,  // 2 value
            0x18, 0x03,  // 3 lease
            0x20, 0x01,  // 4 prev_kv
            0x28, 0x01,  // 5 ignore_value
            0x30, 0x01,  // 6 ignore_lease
        ])
    }

    func testCompareOnLeaseUsesOneofFieldEightAndRangeEndSixtyFour() throws {
        var compare = Etcdserverpb_Compare()
        compare.result = .notEqual
        compare.target = .lease
        compare.key = Data("k".utf8)
        compare.lease = 300
        compare.rangeEnd = Data("l".utf8)

        try assertWire(compare, [
            0x08, 0x03,  // 1 result NOT_EQUAL
            0x10, 0x04,  // 2 target LEASE
            0x1A, 0x01, 0x6B,  // 3 key
            0x40, 0xAC, 0x02,  // 8 lease = 300 (oneof target_union)
            0x82, 0x04, 0x01, 0x6C,  // 64 range_end: tag 514 is a two-byte varint
        ])
    }

    func testCompareSendsAZeroOneofOperand() throws {
        // "version = 0" means "the key does not exist"; a oneof member is encoded even when zero,
        // or etcd would see a compare without an operand.
        var compare = Etcdserverpb_Compare()
        compare.key = Data("k".utf8)
        compare.version = 0

        try assertWire(compare, [
            0x1A, 0x01, 0x6B,  // 3 key (result EQUAL and target VERSION are defaults)
            0x20, 0x00,  // 4 version = 0
        ])
    }

    func testTxnNestsRequestOpOneofs() throws {
        var compare = Etcdserverpb_Compare()
        compare.key = Data("k".utf8)
        compare.version = 0
        var put = Etcdserverpb_PutRequest()
        put.key = Data("k".utf8)
        put.value = Data("v".utf8)
        var range = Etcdserverpb_RangeRequest()
        range.key = Data("k".utf8)
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [compare]
        txn.success = [Etcdserverpb_RequestOp.with { $0.requestPut = put }]
        txn.failure = [Etcdserverpb_RequestOp.with { $0.requestRange = range }]

        try assertWire(txn, [
            0x0A, 0x05, 0x1A, 0x01, 0x6B, 0x20, 0x00,  // 1 compare
            0x12, 0x08, 0x12, 0x06, 0x0A, 0x01, 0x6B, 0x12, 0x01, 0x76,  // 2 success: request_put (2)
            0x1A, 0x05, 0x0A, 0x03, 0x0A, 0x01, 0x6B,  // 3 failure: request_range (1)
        ])
    }

    func testResponseOpOneofFieldNumbers() throws {
        var nested = Etcdserverpb_TxnResponse()
        nested.succeeded = true
        var deleted = Etcdserverpb_DeleteRangeResponse()
        deleted.deleted = 2
        var txn = Etcdserverpb_TxnResponse()
        txn.responses = [
            Etcdserverpb_ResponseOp.with { $0.responseDeleteRange = deleted },
            Etcdserverpb_ResponseOp.with { $0.responseTxn = nested },
        ]

        try assertWire(txn, [
            0x1A, 0x04, 0x1A, 0x02, 0x10, 0x02,  // 3 responses: response_delete_range (3) { deleted }
            0x1A, 0x04, 0x22, 0x02, 0x10, 0x01,  // 3 responses: response_txn (4) { succeeded }
        ])
    }

    func testResponseHeaderCarriesEtcdDefaultIDs() throws {
        // etcd's default single-member cluster: cluster cdf818194e3a8c32, member 8e9e05c52164694d.
        var header = Etcdserverpb_ResponseHeader()
        header.clusterID = 0xCDF8_1819_4E3A_8C32
        header.memberID = 0x8E9E_05C5_2164_694D
        header.revision = 5
        header.raftTerm = 2

        try assertWire(header, [
            0x08, 0xB2, 0x98, 0xEA, 0xF1, 0x94, 0x83, 0x86, 0xFC, 0xCD, 0x01,  // 1 cluster_id
            0x10, 0xCD, 0xD2, 0x91, 0x8B, 0xD2, 0xB8, 0x81, 0xCF, 0x8E, 0x01,  // 2 member_id
            0x18, 0x05,  // 3 revision
            0x20, 0x02,  // 4 raft_term
        ])
    }

    func testKeyValueAndEventUseMvccFieldNumbers() throws {
        var kv = Mvccpb_KeyValue()
        kv.key = Data("k".utf8)
        kv.createRevision = 2
        kv.modRevision = 3
        kv.version = 1
        kv.value = Data("v".utf8)
        kv.lease = 6
        let kvBytes: [UInt8] = [
            0x0A, 0x01, 0x6B,  // 1 key
            0x10, 0x02,  // 2 create_revision
            0x18, 0x03,  // 3 mod_revision
            0x20, 0x01,  // 4 version
            0x2A, 0x01, 0x76,  // 5 value
            0x30, 0x06,  // 6 lease
        ]
        try assertWire(kv, kvBytes)

        var event = Mvccpb_Event()
        event.type = .delete
        event.kv = kv
        event.prevKv = kv
        try assertWire(event, [0x08, 0x01, 0x12, 0x0E] + kvBytes + [0x1A, 0x0E] + kvBytes)
    }

    // MARK: Watch

    func testWatchCreateRequestIsOneofFieldOneWithPackedFilters() throws {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data("foo".utf8)
        create.rangeEnd = Data("fop".utf8)
        create.startRevision = 42
        create.progressNotify = true
        create.filters = [.noput, .nodelete]
        create.prevKv = true
        create.watchID = 3
        create.fragment = true
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create

        try assertWire(request, [
            0x0A, 0x18,  // 1 create_request, 24 bytes
            0x0A, 0x03, 0x66, 0x6F, 0x6F,  // 1 key "foo"
            0x12, 0x03, 0x66, 0x6F, 0x70,  // 2 range_end "fop"
            0x18, 0x2A,  // 3 start_revision 42
            0x20, 0x01,  // 4 progress_notify
            0x2A, 0x02, 0x00, 0x01,  // 5 filters, packed: NOPUT, NODELETE
            0x30, 0x01,  // 6 prev_kv
            0x38, 0x03,  // 7 watch_id
            0x40, 0x01,  // 8 fragment
        ])
    }

    func testWatchFiltersDecodeWhenSentUnpacked() throws {
        // Parsers must accept a repeated enum element by element as well as packed.
        let create = try Etcdserverpb_WatchCreateRequest(serializedBytes: [0x28, 0x01, 0x28, 0x00])
        XCTAssertEqual(create.filters, [.nodelete, .noput])
    }

    func testWatchCancelAndProgressRequestsAreOneofFieldsTwoAndThree() throws {
        var cancel = Etcdserverpb_WatchRequest()
        cancel.cancelRequest.watchID = 5
        try assertWire(cancel, [0x12, 0x02, 0x08, 0x05])

        var progress = Etcdserverpb_WatchRequest()
        progress.progressRequest = Etcdserverpb_WatchProgressRequest()
        try assertWire(progress, [0x1A, 0x00])
    }

    func testWatchResponseEventsAreFieldEleven() throws {
        var event = Mvccpb_Event()
        event.kv.key = Data("k".utf8)
        var response = Etcdserverpb_WatchResponse()
        response.watchID = 1
        response.canceled = true
        response.compactRevision = 9
        response.cancelReason = "x"
        response.fragment = true
        response.events = [event]

        try assertWire(response, [
            0x10, 0x01,  // 2 watch_id
            0x20, 0x01,  // 4 canceled
            0x28, 0x09,  // 5 compact_revision
            0x32, 0x01, 0x78,  // 6 cancel_reason
            0x38, 0x01,  // 7 fragment
            0x5A, 0x05, 0x12, 0x03, 0x0A, 0x01, 0x6B,  // 11 events: { kv { key } }
        ])
    }

    // MARK: Lease, Cluster, Maintenance

    func testNegativeTTLIsATenByteVarint() throws {
        // TTL is int64 (not sint64): -1 for an expired lease takes ten bytes.
        var response = Etcdserverpb_LeaseTimeToLiveResponse()
        response.id = 7
        response.ttl = -1
        response.grantedTtl = 60
        response.keys = [Data("k".utf8)]

        try assertWire(response, [
            0x10, 0x07,  // 2 ID
            0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,  // 3 TTL = -1
            0x20, 0x3C,  // 4 grantedTTL
            0x2A, 0x01, 0x6B,  // 5 keys
        ])
    }

    func testMemberHasIsLearnerAtFieldFive() throws {
        var member = Etcdserverpb_Member()
        member.id = 1
        member.name = "a"
        member.peerUrls = ["p"]
        member.clientUrls = ["c"]
        member.isLearner = true

        try assertWire(member, [
            0x08, 0x01,  // 1 ID
            0x12, 0x01, 0x61,  // 2 name
            0x1A, 0x01, 0x70,  // 3 peerURLs
            0x22, 0x01, 0x63,  // 4 clientURLs
            0x28, 0x01,  // 5 isLearner
        ])
    }

    func testStatusResponseUsesEtcdFieldNumbers() throws {
        var status = Etcdserverpb_StatusResponse()
        status.version = "3.5.17"
        status.dbSize = 1
        status.leader = 2
        status.raftIndex = 3
        status.raftTerm = 4
        status.raftAppliedIndex = 5
        status.errors = ["e"]
        status.dbSizeInUse = 6
        status.isLearner = true

        try assertWire(status, [
            0x12, 0x06, 0x33, 0x2E, 0x35, 0x2E, 0x31, 0x37,  // 2 version "3.5.17"
            0x18, 0x01,  // 3 dbSize
            0x20, 0x02,  // 4 leader
            0x28, 0x03,  // 5 raftIndex
            0x30, 0x04,  // 6 raftTerm
            0x38, 0x05,  // 7 raftAppliedIndex
            0x42, 0x01, 0x65,  // 8 errors
            0x48, 0x06,  // 9 dbSizeInUse
            0x50, 0x01,  // 10 isLearner
        ])
    }

    func testSnapshotResponseUsesEtcdFieldNumbers() throws {
        var response = Etcdserverpb_SnapshotResponse()
        response.remainingBytes = 32
        response.blob = Data([0xAB])

        try assertWire(response, [0x10, 0x20, 0x1A, 0x01, 0xAB])
    }

    func testAlarmRequestUsesTopLevelAlarmType() throws {
        var request = Etcdserverpb_AlarmRequest()
        request.action = .deactivate
        request.memberID = 9
        request.alarm = .nospace

        try assertWire(request, [0x08, 0x02, 0x10, 0x09, 0x18, 0x01])
    }

    func testJSONKeepsEtcdsCamelCaseNames() throws {
        var status = Etcdserverpb_StatusResponse()
        status.dbSize = 1
        status.raftIndex = 2
        status.dbSizeInUse = 3
        status.isLearner = true
        status.header.memberID = 4
        let json = try status.jsonString()
        for name in ["\"dbSize\"", "\"raftIndex\"", "\"dbSizeInUse\"", "\"isLearner\"", "\"memberId\""] {
            XCTAssertTrue(json.contains(name), "\(name) missing from \(json)")
        }

        var member = Etcdserverpb_Member()
        member.id = 1
        member.peerUrls = ["p"]
        let memberJSON = try member.jsonString()
        XCTAssertTrue(memberJSON.contains("\"ID\""), memberJSON)
        XCTAssertTrue(memberJSON.contains("\"peerURLs\""), memberJSON)
    }

    // MARK: Services

    func testServiceMethodPathsMatchEtcd() {
        let expected: [(service: String, methods: [MethodDescriptor])] = [
            ("etcdserverpb.KV", Etcdserverpb_KV.Method.descriptors),
            ("etcdserverpb.Watch", Etcdserverpb_Watch.Method.descriptors),
            ("etcdserverpb.Lease", Etcdserverpb_Lease.Method.descriptors),
            ("etcdserverpb.Cluster", Etcdserverpb_Cluster.Method.descriptors),
            ("etcdserverpb.Maintenance", Etcdserverpb_Maintenance.Method.descriptors),
            ("etcdserverpb.Auth", Etcdserverpb_Auth.Method.descriptors),
            ("grpc.health.v1.Health", Grpc_Health_V1_Health.Method.descriptors),
        ]
        let names = [
            "etcdserverpb.KV": ["Range", "Put", "DeleteRange", "Txn", "Compact"],
            "etcdserverpb.Watch": ["Watch"],
            "etcdserverpb.Lease": ["LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases"],
            "etcdserverpb.Cluster": ["MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote"],
            "etcdserverpb.Maintenance": [
                "Alarm", "Status", "Defragment", "Hash", "HashKV", "Snapshot", "MoveLeader", "Downgrade",
            ],
            "etcdserverpb.Auth": [
                "AuthEnable", "AuthDisable", "AuthStatus", "Authenticate",
                "UserAdd", "UserGet", "UserList", "UserDelete", "UserChangePassword", "UserGrantRole",
                "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList", "RoleDelete", "RoleGrantPermission",
                "RoleRevokePermission",
            ],
            "grpc.health.v1.Health": ["Check", "Watch"],
        ]
        for (service, methods) in expected {
            XCTAssertEqual(methods.map(\.service.fullyQualifiedService), Array(repeating: service, count: methods.count))
            XCTAssertEqual(methods.map(\.method), names[service], service)
        }
        let etcdRPCs = expected.filter { $0.service.hasPrefix("etcdserverpb.") }.map(\.methods.count).reduce(0, +)
        XCTAssertEqual(etcdRPCs, 41, "the 39 RPCs of etcd 3.4 plus Downgrade and AuthStatus")

        XCTAssertEqual(Etcdserverpb_KV.Method.Range.descriptor.fullyQualifiedMethod, "etcdserverpb.KV/Range")
        XCTAssertEqual(
            Etcdserverpb_Maintenance.Method.Snapshot.descriptor.fullyQualifiedMethod,
            "etcdserverpb.Maintenance/Snapshot"
        )
        XCTAssertEqual(Grpc_Health_V1_Health.Method.Check.descriptor.fullyQualifiedMethod, "grpc.health.v1.Health/Check")
    }

    func testStreamingShapesMatchEtcd() {
        XCTAssertEqual(Etcdserverpb_Watch.Method.Watch.descriptor.type, .bidirectionalStreaming)
        XCTAssertEqual(Etcdserverpb_Lease.Method.LeaseKeepAlive.descriptor.type, .bidirectionalStreaming)
        XCTAssertEqual(Etcdserverpb_Maintenance.Method.Snapshot.descriptor.type, .serverStreaming)
        XCTAssertEqual(Grpc_Health_V1_Health.Method.Watch.descriptor.type, .serverStreaming)
        XCTAssertEqual(Etcdserverpb_KV.Method.Txn.descriptor.type, .unary)
    }

    // MARK: Helpers

    /// Asserts that `message` serialises to exactly `expected` and that those bytes parse back
    /// to an equal message.
    private func assertWire<M: SwiftProtobuf.Message & Equatable>(
        _ message: M,
        _ expected: [UInt8],
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        XCTAssertEqual(hex(bytes), hex(expected), "serialised \(M.protoMessageName)", file: file, line: line)
        let decoded = try M(serializedBytes: expected)
        XCTAssertEqual(decoded, message, "parsed \(M.protoMessageName)", file: file, line: line)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02X", $0) }.joined(separator: " ")
    }
}
