import API
import Foundation
import Logging
import Storage
import XCTest

@testable import Server

/// The lessor against a real store, with a log that applies each proposal at once and a
/// manual clock: expiry, renewals and leader changes are driven step by step.
final class LessorTests: XCTestCase {
    /// Applies proposals to the store in order, as a single-member raft would.
    private actor InstantLog {
        let store: MVCCStore
        private var index: UInt64 = 1
        private(set) var proposals: [Cairnpb_InternalRequest] = []
        private var failuresLeft = 0

        init(store: MVCCStore) { self.store = store }

        func failNext(_ count: Int) { failuresLeft = count }

        func propose(_ request: Cairnpb_InternalRequest) async throws -> AppliedResult {
            proposals.append(request)
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw EtcdError.timeout
            }
            index += 1
            let applied = index
            let result = try await store.apply(index: applied, term: 1) { transaction in
                try AppliedResult.execute(request, index: applied, in: &transaction)
            }
            return result ?? .alreadyApplied
        }

        var revokedIDs: [Int64] {
            proposals.compactMap { $0.request.flatMap { if case .leaseRevoke(let r) = $0 { r.id } else { nil } } }
        }
    }

    /// Yields `values` in turn, then repeats the last.
    private struct ScriptedRandom: RandomNumberGenerator {
        var values: [UInt64]
        mutating func next() -> UInt64 { values.count > 1 ? values.removeFirst() : values[0] }
    }

    private var directory: URL!
    private var store: MVCCStore!
    private var log: InstantLog!
    private let clock = ManualClock()

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-lessor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try MVCCStore(path: directory.appendingPathComponent("db").path)
        log = InstantLog(store: store)
    }

    override func tearDown() {
        store?.close()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func makeLessor(revokesPerCheckMax: Int = 500,
        random: sending any RandomNumberGenerator = SystemRandomNumberGenerator()) -> Lessor<ManualClock>
    {
        var options = Lessor<ManualClock>.Options(minimumTTLSeconds: 2)
        options.revokesPerCheckMax = revokesPerCheckMax
        let log = self.log!
        return Lessor(clock: clock, store: store, options: options, logger: Logger(label: "test"), random: random) {
            try await log.propose($0)
        }
    }

    private func leader(_ lessor: Lessor<ManualClock>) async -> Lessor<ManualClock> {
        await lessor.handle(.leadership(isLeader: true))
        return lessor
    }

    private func attach(_ key: String, to lease: Int64) async throws {
        var put = Etcdserverpb_PutRequest()
        put.key = Data(key.utf8)
        put.value = Data("v".utf8)
        put.lease = lease
        var request = Cairnpb_InternalRequest()
        request.put = put
        _ = try await log.propose(request)
    }

    func testMinimumTTLIsOneAndAHalfElectionTimeoutsRoundedUpToSeconds() {
        XCTAssertEqual(Lessor<ContinuousClock>.minimumTTLSeconds(electionTimeoutMs: 1000, heartbeatIntervalMs: 100), 2)
        XCTAssertEqual(Lessor<ContinuousClock>.minimumTTLSeconds(electionTimeoutMs: 2000, heartbeatIntervalMs: 100), 3)
        XCTAssertEqual(Lessor<ContinuousClock>.minimumTTLSeconds(electionTimeoutMs: 5000, heartbeatIntervalMs: 250), 8)
    }

    func testGrantWithoutIDChoosesDistinctPositiveIDsAndPersistsThem() async throws {
        let lessor = await leader(makeLessor())
        var ids: Set<Int64> = []
        for _ in 0..<20 {
            let granted = try await lessor.grant(id: 0, ttlSeconds: 60)
            XCTAssertGreaterThan(granted.id, 0)
            XCTAssertEqual(granted.ttlSeconds, 60)
            ids.insert(granted.id)
        }
        XCTAssertEqual(ids.count, 20)
        XCTAssertEqual(Set(try store.leases().map(\.id)), ids)
    }

    func testServerChosenIDThatCollidesIsDrawnAgain() async throws {
        let lessor = await leader(makeLessor(random: ScriptedRandom(values: [1 << 62, 1 << 62, 1 << 61])))
        let first = try await lessor.grant(id: 0, ttlSeconds: 60)
        let second = try await lessor.grant(id: 0, ttlSeconds: 60)
        XCTAssertNotEqual(first.id, second.id)
        XCTAssertEqual(try store.leases().count, 2)
    }

    func testExplicitIDIsHonouredAndADuplicateFailsWithLeaseExists() async throws {
        let lessor = await leader(makeLessor())
        let granted = try await lessor.grant(id: 42, ttlSeconds: 10)
        XCTAssertEqual(granted.id, 42)
        do {
            _ = try await lessor.grant(id: 42, ttlSeconds: 10)
            XCTFail("a duplicate grant succeeded")
        } catch {
            let rpc = EtcdError.from(error)
            XCTAssertEqual(rpc.message, "etcdserver: lease already exists")
            XCTAssertEqual(rpc.code, .failedPrecondition)
        }
    }

    func testTTLBelowTheMinimumIsRaisedAndAboveTheMaximumRefused() async throws {
        let lessor = await leader(makeLessor())
        let granted = try await lessor.grant(id: 1, ttlSeconds: 1)
        XCTAssertEqual(granted.ttlSeconds, 2)
        XCTAssertEqual(try store.lease(id: 1)?.ttlSeconds, 2, "the raised TTL is what the log carries")
        do {
            _ = try await lessor.grant(id: 2, ttlSeconds: 9_000_000_001)
            XCTFail("a TTL above etcd's maximum was granted")
        } catch {
            XCTAssertEqual(EtcdError.from(error).message, "etcdserver: too large lease TTL")
        }
    }

    func testLeaderRevokesAnExpiredLeaseThroughTheLogAndItsKeysGo() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 5, ttlSeconds: 5)
        try await attach("k", to: 5)

        clock.advance(by: .milliseconds(4900))
        let early = await lessor.revokeExpired()
        XCTAssertEqual(early, [])
        let value1 = try await lessor.timeToLive(id: 5, withKeys: true)
        XCTAssertEqual(value1?.keys, [Array("k".utf8)])

        clock.advance(by: .milliseconds(100))
        let revoked = await lessor.revokeExpired()
        XCTAssertEqual(revoked, [5])
        let logged = await log.revokedIDs
        XCTAssertEqual(logged, [5], "expiry is a revoke in the log")
        XCTAssertNil(try store.lease(id: 5))
        XCTAssertEqual(try store.keys(attachedTo: 5), [])
        XCTAssertEqual(try store.range(Storage.RangeRequest(key: Array("k".utf8))).kvs, [])
    }

    func testKeepAliveRestartsTheFullTTL() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 9, ttlSeconds: 5)
        clock.advance(by: .seconds(4))
        let value2 = try await lessor.timeToLive(id: 9, withKeys: false)
        XCTAssertEqual(value2?.remainingSeconds, 1)
        let value3 = try await lessor.renew(id: 9)
        XCTAssertEqual(value3, 5)
        clock.advance(by: .seconds(4))
        let revoked = await lessor.revokeExpired()
        XCTAssertEqual(revoked, [])
        let alive = try await lessor.timeToLive(id: 9, withKeys: false)
        XCTAssertEqual(alive?.remainingSeconds, 1)
        XCTAssertEqual(alive?.grantedSeconds, 5)
    }

    func testUnknownOrExpiredLeaseRenewsToZeroAndUnknownHasNoTimeToLive() async throws {
        let lessor = await leader(makeLessor())
        let value4 = try await lessor.renew(id: 1234)
        XCTAssertEqual(value4, 0)
        let value5 = try await lessor.timeToLive(id: 1234, withKeys: true)
        XCTAssertNil(value5)

        _ = try await lessor.grant(id: 3, ttlSeconds: 3)
        clock.advance(by: .seconds(3))
        let value6 = try await lessor.renew(id: 3)
        XCTAssertEqual(value6, 0, "a renewal must not outrun the pending revoke")
        await lessor.revokeExpired()
        let value7 = try await lessor.timeToLive(id: 3, withKeys: false)
        XCTAssertNil(value7)
    }

    func testClientRevokeRemovesTheLeaseAndAgainIsNotFound() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 4, ttlSeconds: 60)
        try await attach("a", to: 4)
        try await lessor.revoke(id: 4)
        XCTAssertEqual(try lessor.leaseIDs(), [])
        XCTAssertEqual(try store.range(Storage.RangeRequest(key: Array("a".utf8))).kvs, [])
        do {
            try await lessor.revoke(id: 4)
            XCTFail("revoking twice succeeded")
        } catch {
            XCTAssertEqual(EtcdError.from(error).message, "etcdserver: requested lease not found")
        }
    }

    func testFollowerNeverExpiresLeasesAndRefusesKeepAlive() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 6, ttlSeconds: 2)
        await lessor.handle(.leadership(isLeader: false))
        clock.advance(by: .seconds(60))
        let revoked = await lessor.revokeExpired()
        XCTAssertEqual(revoked, [])
        XCTAssertNotNil(try store.lease(id: 6))
        do {
            _ = try await lessor.renew(id: 6)
            XCTFail("a follower renewed a lease")
        } catch {
            XCTAssertEqual(EtcdError.from(error).message, "etcdserver: not leader")
        }
    }

    func testANewLeaderStartsFromTheLastCheckpoint() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 20, ttlSeconds: 60)
        _ = try await lessor.grant(id: 21, ttlSeconds: 60)
        clock.advance(by: .seconds(15))
        _ = try await lessor.renew(id: 21)
        await lessor.checkpoint()
        XCTAssertEqual(try store.lease(id: 20)?.remainingSeconds, 45, "the leader recorded what is left")
        XCTAssertEqual(try store.lease(id: 21)?.remainingSeconds, 0, "a lease just renewed has its full TTL: nothing to record")

        await lessor.handle(.leadership(isLeader: false))
        clock.advance(by: .seconds(30))
        await lessor.handle(.leadership(isLeader: true))
        let resumed = try await lessor.timeToLive(id: 20, withKeys: false)
        XCTAssertEqual(resumed?.remainingSeconds, 45, "not 60: the failover does not prolong the lease")
        let renewed = try await lessor.timeToLive(id: 21, withKeys: false)
        XCTAssertEqual(renewed?.remainingSeconds, 60)

        // A renewal clears the checkpoint, so a later leader gives the full TTL again.
        _ = try await lessor.renew(id: 20)
        let deadline = ContinuousClock.now + .seconds(5)
        while try store.lease(id: 20)?.remainingSeconds != 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTAssertEqual(try store.lease(id: 20)?.remainingSeconds, 0)
    }

    func testNewLeaderGivesALeaseWithoutCheckpointItsFullTTL() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 10, ttlSeconds: 10)
        clock.advance(by: .seconds(9))
        await lessor.handle(.leadership(isLeader: false))
        clock.advance(by: .seconds(30))
        await lessor.handle(.leadership(isLeader: true))
        let value8 = try await lessor.timeToLive(id: 10, withKeys: false)
        XCTAssertEqual(value8?.remainingSeconds, 10)
        clock.advance(by: .seconds(9))
        let early = await lessor.revokeExpired()
        XCTAssertEqual(early, [])
        clock.advance(by: .seconds(1))
        let revoked = await lessor.revokeExpired()
        XCTAssertEqual(revoked, [10])
    }

    func testGrantAppliedFromElsewhereStartsTheLeadersClock() async throws {
        let lessor = await leader(makeLessor())
        var grant = Etcdserverpb_LeaseGrantRequest()
        grant.id = 11
        grant.ttl = 4
        var request = Cairnpb_InternalRequest()
        request.leaseGrant = grant
        let result = try await log.propose(request)
        await lessor.handle(.applied(index: 2, result: result))
        clock.advance(by: .seconds(4))
        let revoked = await lessor.revokeExpired()
        XCTAssertEqual(revoked, [11])
    }

    func testExpiryRoundsAreBoundedAndEarliestDeadlinesGoFirst() async throws {
        let lessor = await leader(makeLessor(revokesPerCheckMax: 2))
        for id in Int64(1)...5 {
            _ = try await lessor.grant(id: id, ttlSeconds: 10 + id)
        }
        clock.advance(by: .seconds(20))
        let first = await lessor.revokeExpired()
        let second = await lessor.revokeExpired()
        let third = await lessor.revokeExpired()
        XCTAssertEqual([first, second, third], [[1, 2], [3, 4], [5]])
    }

    func testALostRevokeIsProposedAgainAfterTheRetryInterval() async throws {
        let lessor = await leader(makeLessor())
        _ = try await lessor.grant(id: 8, ttlSeconds: 2)
        clock.advance(by: .seconds(2))
        await log.failNext(1)
        let lost = await lessor.revokeExpired()
        XCTAssertEqual(lost, [])
        clock.advance(by: .seconds(1))
        let notYet = await lessor.revokeExpired()
        XCTAssertEqual(notYet, [])
        clock.advance(by: .seconds(2))
        let retried = await lessor.revokeExpired()
        XCTAssertEqual(retried, [8])
        XCTAssertNil(try store.lease(id: 8))
    }
}
