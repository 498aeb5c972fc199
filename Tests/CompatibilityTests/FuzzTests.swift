import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import TestSupport
import XCTest

/// Requests with random and malformed fields (empty, oversized and inverted keys, negative and
/// huge revisions, limits and lease ids, unknown enum values, nested transactions) to the KV,
/// Lease, Watch, Maintenance and Cluster services: each gets an answer, success or a proper
/// error, within its deadline; afterwards the server is healthy and still reads and writes.
/// Fixed seed, so a failure replays; `CAIRN_FUZZ_ROUNDS` and `CAIRN_FUZZ_SEED` run another
/// sequence (`make fuzz`).
final class FuzzTests: CompatibilityTestCase {
    private struct Clients {
        let kv: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>
        let lease: Etcdserverpb_Lease.Client<HTTP2ClientTransport.Posix>
        let watch: Etcdserverpb_Watch.Client<HTTP2ClientTransport.Posix>
        let maintenance: Etcdserverpb_Maintenance.Client<HTTP2ClientTransport.Posix>
        let cluster: Etcdserverpb_Cluster.Client<HTTP2ClientTransport.Posix>
    }

    func testMalformedRequestsGetAnswersAndTheServerStaysHealthy() async throws {
        try XCTSkipIf(server.binary.kind == .etcd,
            "etcd 3.4.23 stops answering at round 43 of this seed (a Range request): the suite pins cairn's behaviour")
        for index in 0..<20 { _ = try put("key\(index)", "value\(index)") }
        let transport = try clientTransport()
        let settings = try FuzzSettings(defaultRounds: 400, defaultSeed: 20261125)
        var draw = FuzzDraw(seed: settings.seed)
        var answers = FuzzAnswers()
        let started = ContinuousClock.now
        try await withGRPCClient(transport: transport) { client in
            let clients = Clients(kv: .init(wrapping: client), lease: .init(wrapping: client), watch: .init(wrapping: client),
                maintenance: .init(wrapping: client), cluster: .init(wrapping: client))
            for round in 0..<settings.rounds {
                let kind = Int(draw.random.next() % 11)
                draw.oversized = false
                do {
                    try await send(kind, &draw, clients)
                    answers.recordSuccess()
                } catch {
                    answers.record(error, oversized: draw.oversized, "\(settings), round \(round), request kind \(kind)")
                }
            }
        }
        print("FuzzTests: \(settings.rounds) requests (seed \(settings.seed)) in \(ContinuousClock.now - started), \(answers)")
        XCTAssertGreaterThan(answers.counts["ok", default: 0], settings.rounds / 10, "too few requests were valid to reach the services")
        XCTAssertGreaterThan(answers.counts.count, 3, "the errors should be varied: \(answers)")

        try server.waitUntilHealthy(using: etcdctl)
        _ = try put("after-fuzz", "still-works")
        XCTAssertEqual(try get("after-fuzz").kvs.first?.value, "still-works")
    }

    private func send(_ kind: Int, _ draw: inout FuzzDraw, _ clients: Clients) async throws {
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        switch kind {
        case 0:
            _ = try await clients.kv.range(range(&draw), options: options)
        case 1:
            _ = try await clients.kv.put(put(&draw), options: options)
        case 2:
            var request = Etcdserverpb_DeleteRangeRequest()
            request.key = draw.bytes()
            request.rangeEnd = draw.pick([Data(), Data([0]), draw.bytes()])
            request.prevKv = draw.flag()
            _ = try await clients.kv.deleteRange(request, options: options)
        case 3:
            _ = try await clients.kv.txn(txn(&draw, depth: 0), options: options)
        case 4:
            var request = Etcdserverpb_CompactionRequest()
            request.revision = draw.int64()
            request.physical = draw.flag()
            _ = try await clients.kv.compact(request, options: options)
        case 5:
            var request = Etcdserverpb_LeaseGrantRequest()
            request.ttl = draw.int64()
            request.id = draw.pick([0, draw.int64()])
            _ = try await clients.lease.leaseGrant(request, options: options)
        case 6:
            var revoke = Etcdserverpb_LeaseRevokeRequest()
            revoke.id = draw.int64()
            _ = try await clients.lease.leaseRevoke(revoke, options: options)
        case 7:
            var request = Etcdserverpb_LeaseTimeToLiveRequest()
            request.id = draw.int64()
            request.keys = draw.flag()
            _ = try await clients.lease.leaseTimeToLive(request, options: options)
        case 8:
            var alarm = Etcdserverpb_AlarmRequest()
            // Only GET: activating NOSPACE or CORRUPT would (rightly) stop the writes below.
            alarm.action = .get
            alarm.memberID = UInt64(bitPattern: draw.int64())
            alarm.alarm = Etcdserverpb_AlarmType(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1)
            _ = try await clients.maintenance.alarm(alarm, options: options)
            var hash = Etcdserverpb_HashKVRequest()
            hash.revision = draw.int64()
            _ = try await clients.maintenance.hashKV(hash, options: options)
        case 9:
            var promote = Etcdserverpb_MemberPromoteRequest()
            promote.id = UInt64(bitPattern: draw.int64())
            _ = try await clients.cluster.memberPromote(promote, options: options)
        default:
            try await watchOnce(&draw, clients.watch)
        }
    }

    private func range(_ draw: inout FuzzDraw) -> Etcdserverpb_RangeRequest {
        var request = Etcdserverpb_RangeRequest()
        request.key = draw.pick([Data("key1".utf8), Data([0]), draw.bytes()])
        // Empty, "from key", a prefix end, or random: often before the key (inverted).
        request.rangeEnd = draw.pick([Data(), Data([0]), Data("key9".utf8), draw.bytes()])
        request.limit = draw.int64()
        request.revision = draw.int64()
        request.sortOrder = .init(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1)
        request.sortTarget = .init(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1)
        request.serializable = draw.flag()
        request.keysOnly = draw.flag()
        request.countOnly = draw.flag()
        request.minModRevision = draw.int64()
        request.maxModRevision = draw.int64()
        request.minCreateRevision = draw.int64()
        request.maxCreateRevision = draw.int64()
        return request
    }

    private func put(_ draw: inout FuzzDraw) -> Etcdserverpb_PutRequest {
        var request = Etcdserverpb_PutRequest()
        request.key = draw.pick([Data("key2".utf8), draw.bytes()])
        request.value = draw.bytes()
        request.lease = draw.pick([0, draw.int64()])
        request.prevKv = draw.flag()
        request.ignoreValue = draw.pick([false, false, true])
        request.ignoreLease = draw.pick([false, false, true])
        return request
    }

    private func txn(_ draw: inout FuzzDraw, depth: Int) -> Etcdserverpb_TxnRequest {
        var request = Etcdserverpb_TxnRequest()
        request.compare = (0..<draw.pick([0, 1, 3])).map { _ in
            var compare = Etcdserverpb_Compare()
            compare.key = draw.pick([Data("key3".utf8), draw.bytes()])
            compare.rangeEnd = draw.pick([Data(), draw.bytes()])
            compare.result = .init(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1)
            compare.target = .init(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1)
            switch draw.random.next() % 5 {
            case 0: compare.version = draw.int64()
            case 1: compare.createRevision = draw.int64()
            case 2: compare.modRevision = draw.int64()
            case 3: compare.value = draw.bytes()
            default: compare.lease = draw.int64()
            }
            return compare
        }
        func operations(_ draw: inout FuzzDraw) -> [Etcdserverpb_RequestOp] {
            (0..<draw.pick([0, 1, 2, 4])).map { _ in
                var operation = Etcdserverpb_RequestOp()
                switch draw.random.next() % 4 {
                case 0: operation.requestRange = range(&draw)
                case 1: operation.requestPut = put(&draw)
                case 2:
                    var delete = Etcdserverpb_DeleteRangeRequest()
                    delete.key = draw.bytes()
                    delete.rangeEnd = draw.pick([Data(), draw.bytes()])
                    operation.requestDeleteRange = delete
                default:
                    if depth < 2 { operation.requestTxn = txn(&draw, depth: depth + 1) }
                }
                return operation
            }
        }
        request.success = operations(&draw)
        request.failure = operations(&draw)
        return request
    }

    /// Creates a watch with random fields, then a cancel of a random id, and waits for the
    /// first answer: the created response or a cancellation.
    private func watchOnce(_ draw: inout FuzzDraw, _ watch: Etcdserverpb_Watch.Client<HTTP2ClientTransport.Posix>) async throws {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = draw.pick([Data("key4".utf8), draw.bytes()])
        create.rangeEnd = draw.pick([Data(), Data([0]), draw.bytes()])
        create.startRevision = draw.int64()
        create.prevKv = draw.flag()
        create.progressNotify = draw.flag()
        create.fragment = draw.flag()
        create.watchID = draw.pick([0, draw.int64()])
        create.filters = (0..<draw.pick([0, 1, 3])).map { _ in .init(rawValue: draw.rawEnum()) ?? .UNRECOGNIZED(-1) }
        var first = Etcdserverpb_WatchRequest()
        first.createRequest = create
        var cancel = Etcdserverpb_WatchRequest()
        cancel.cancelRequest.watchID = draw.int64()
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        try await watch.watch(
            options: options,
            requestProducer: { [first, cancel] writer in
                try await writer.write(first)
                try await writer.write(cancel)
            },
            onResponse: { response in
                for try await message in response.messages where message.created || message.canceled { return }
            })
    }
}
