import API
import Logging
import Storage

/// etcd's lessor. Grants and revokes go through the raft log (so they are durable and every
/// member applies them); the store says which leases exist and with what granted TTL. Only the
/// leader keeps deadlines, in memory, and only the leader expires leases — by proposing a
/// revoke, never by deleting anything itself. The leader checkpoints remaining TTLs through
/// the log every ``Options/checkpointInterval``; a new leader starts each lease from its last
/// checkpoint (or its full TTL), so a failover neither expires nor much prolongs leases.
actor Lessor<C: Clock> where C.Duration == Duration {
    /// etcd's bound: `etcdserver: too large lease TTL` above it.
    static var maxTTLSeconds: Int64 { 9_000_000_000 }

    /// etcd's minimum TTL: one and a half election timeouts, in ticks, rounded up to seconds
    /// (2 s with the 100 ms heartbeat and 1 s election timeout defaults).
    static func minimumTTLSeconds(electionTimeoutMs: Int, heartbeatIntervalMs: Int) -> Int64 {
        let electionTicks = electionTimeoutMs / heartbeatIntervalMs
        let minimumMs = (3 * electionTicks) / 2 * heartbeatIntervalMs
        return Int64((minimumMs + 999) / 1000)
    }

    struct Options: Sendable {
        var minimumTTLSeconds: Int64
        /// How often the leader looks for expired leases.
        var checkInterval: Duration = .milliseconds(500)
        /// Revokes proposed per check at most, so a mass expiry does not flood the log
        /// (etcd: 1000 revokes a second).
        var revokesPerCheckMax = 500
        /// When to propose a revoke again if the previous one was lost (etcd: 3 s).
        var revokeRetryInterval: Duration = .seconds(3)
        /// Server-chosen ids that collide with an existing lease are drawn again this often.
        var idAttemptsMax = 8
        /// How often the leader records remaining TTLs in the log (etcd's
        /// `--experimental-lease-checkpoint-interval`, 5 minutes).
        var checkpointInterval: Duration = .seconds(300)
        /// Leases per checkpoint entry (etcd: 1000).
        var checkpointsPerEntryMax = 1000
    }

    /// Proposes a request through raft and returns what applying it produced.
    typealias Propose = @Sendable (Cairnpb_InternalRequest) async throws -> AppliedResult

    private let clock: C
    private let store: MVCCStore
    private let propose: Propose
    private let options: Options
    private let logger: Logger
    private var random: any RandomNumberGenerator

    private var isPrimary = false
    private var table = LeaseTable<C.Instant>()

    private nonisolated let events: AsyncStream<RaftHost.HostEvent>
    private nonisolated let eventSink: AsyncStream<RaftHost.HostEvent>.Continuation

    init(clock: C, store: MVCCStore, options: Options, logger: Logger,
        random: sending any RandomNumberGenerator = SystemRandomNumberGenerator(), propose: @escaping Propose)
    {
        self.clock = clock
        self.store = store
        self.options = options
        self.logger = logger
        self.random = random
        self.propose = propose
        // Unbounded, but only lease and leadership events enter it and ``run()`` drains it.
        (events, eventSink) = AsyncStream.makeStream(of: RaftHost.HostEvent.self)
    }

    /// The ``RaftHost`` listener: hands the events the lessor cares about to ``run()``
    /// without blocking the host.
    nonisolated func observe(_ event: RaftHost.HostEvent) {
        switch event {
        case .leadership, .applied(_, .leaseGrant?): eventSink.yield(event)
        case .applied, .removed, .membersChanged, .storeReplaced: break
        }
    }

    /// Follows host events and expires leases until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in self.events { await self.handle(event) }
            }
            group.addTask {
                while (try? await self.clock.sleep(for: self.options.checkInterval)) != nil {
                    await self.revokeExpired()
                }
            }
            group.addTask {
                while (try? await self.clock.sleep(for: self.options.checkpointInterval)) != nil {
                    await self.checkpoint()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func handle(_ event: RaftHost.HostEvent) {
        switch event {
        case .leadership(let isLeader):
            isPrimary = isLeader
            guard isLeader else {
                table.demote()
                return
            }
            do {
                let leases = try store.leases()
                table.promote(leases: leases.map { ($0.id, $0.ttlSeconds, $0.startingSeconds) }, now: clock.now)
                logger.info("leader: lease deadlines restored from the last checkpoints", metadata: [
                    "leases": "\(leases.count)", "checkpointed": "\(leases.filter { $0.remainingSeconds > 0 }.count)",
                ])
            } catch {
                // Leases granted before stay untracked until renewed; new grants are tracked.
                logger.error("cannot load leases after becoming leader", metadata: ["error": "\(error)"])
            }
        case .applied(_, .leaseGrant(let id, let ttlSeconds)?):
            // A grant proposed by any member: the leader starts its clock once applied.
            if isPrimary, table.entries[id] == nil {
                table.track(id: id, ttlSeconds: ttlSeconds, now: clock.now)
            }
        case .applied, .removed, .membersChanged, .storeReplaced:
            break
        }
    }

    // MARK: - Client requests

    /// Grants a lease through the log; id 0 asks for a server-chosen one. Returns the id and
    /// the TTL actually granted (raised to the minimum).
    func grant(id requestedID: Int64, ttlSeconds requestedTTL: Int64) async throws -> (id: Int64, ttlSeconds: Int64) {
        guard requestedTTL <= Self.maxTTLSeconds else { throw EtcdError.leaseTTLTooLarge }
        let ttl = max(requestedTTL, options.minimumTTLSeconds)
        var attempt = 1
        while true {
            let id = requestedID != 0 ? requestedID : Int64.random(in: 1...Int64.max, using: &random)
            var grant = Etcdserverpb_LeaseGrantRequest()
            grant.id = id
            grant.ttl = ttl
            do {
                _ = try await proposeOne { $0.leaseGrant = grant }
                if isPrimary { table.track(id: id, ttlSeconds: ttl, now: clock.now) }
                return (id, ttl)
            } catch let error as StorageError where error.code == .leaseExists && requestedID == 0
                && attempt < options.idAttemptsMax
            {
                attempt += 1
            }
        }
    }

    /// Revokes `id` through the log; applying the revoke deletes its keys.
    func revoke(id: Int64) async throws {
        try await proposeRevoke(id: id)
        table.remove(id: id)
    }

    /// Renews `id` on the leader: its TTL, or 0 when the lease does not exist or has expired
    /// (etcd answers a keep-alive for an unknown lease with TTL 0).
    func renew(id: Int64) throws -> Int64 {
        guard isPrimary else { throw EtcdError.notLeader }
        guard let lease = try store.lease(id: id) else {
            table.remove(id: id)
            return 0
        }
        guard let ttl = table.renew(id: id, ttlSeconds: lease.ttlSeconds, now: clock.now) else { return 0 }
        if lease.remainingSeconds > 0 {
            // The full TTL holds again: a later leader must not start from the old remainder.
            Task { try? await self.proposeCheckpoints([(id, 0)]) }
        }
        return ttl
    }

    struct TimeToLive: Sendable {
        var remainingSeconds: Int64
        var grantedSeconds: Int64
        var keys: [[UInt8]]
    }

    /// What the leader knows of `id`, nil when there is no such lease.
    func timeToLive(id: Int64, withKeys: Bool) throws -> TimeToLive? {
        guard isPrimary else { throw EtcdError.notLeader }
        guard let lease = try store.lease(id: id) else { return nil }
        if table.entries[id] == nil {
            table.track(id: id, ttlSeconds: lease.ttlSeconds, now: clock.now)
        }
        let remaining = table.remainingSeconds(id: id, now: clock.now) ?? lease.ttlSeconds
        return TimeToLive(remainingSeconds: remaining, grantedSeconds: lease.ttlSeconds,
            keys: withKeys ? try store.keys(attachedTo: id) : [])
    }

    /// Every lease's id, in id order.
    nonisolated func leaseIDs() throws -> [Int64] {
        try store.leases().map(\.id)
    }

    // MARK: - Expiry

    /// One expiry round on the leader: proposes a revoke for each lease past its deadline, up
    /// to ``Options/revokesPerCheckMax``. Returns the ids revoked in this round.
    @discardableResult
    func revokeExpired() async -> [Int64] {
        guard isPrimary else { return [] }
        let now = clock.now
        let due = table.takeExpired(now: now, limit: options.revokesPerCheckMax,
            retryAt: now.advanced(by: options.revokeRetryInterval))
        var revoked: [Int64] = []
        for id in due {
            do {
                try await proposeRevoke(id: id)
                table.remove(id: id)
                revoked.append(id)
            } catch let error as StorageError where error.code == .leaseNotFound {
                // Revoked meanwhile, by a client or an earlier attempt that looked lost.
                table.remove(id: id)
            } catch {
                logger.warning("cannot revoke an expired lease; will retry",
                    metadata: ["lease": "\(String(id, radix: 16))", "error": "\(error)"])
            }
        }
        if !revoked.isEmpty {
            logger.info("revoked expired leases", metadata: ["count": "\(revoked.count)"])
        }
        return revoked
    }

    /// One checkpoint round on the leader: records the remaining TTL of every lease that has
    /// run below its granted TTL.
    func checkpoint() async {
        guard isPrimary else { return }
        let due = table.checkpoints(now: clock.now)
        guard !due.isEmpty else { return }
        do {
            for start in stride(from: 0, to: due.count, by: options.checkpointsPerEntryMax) {
                try await proposeCheckpoints(Array(due[start..<min(start + options.checkpointsPerEntryMax, due.count)]))
            }
        } catch {
            logger.warning("cannot checkpoint lease TTLs; will retry", metadata: ["error": "\(error)"])
        }
    }

    private func proposeCheckpoints(_ leases: [(id: Int64, remainingSeconds: Int64)]) async throws {
        var request = Etcdserverpb_LeaseCheckpointRequest()
        request.checkpoints = leases.map { lease in
            var checkpoint = Etcdserverpb_LeaseCheckpoint()
            checkpoint.id = lease.id
            checkpoint.remainingTtl = lease.remainingSeconds
            return checkpoint
        }
        _ = try await proposeOne { $0.leaseCheckpoint = request }
    }

    private func proposeRevoke(id: Int64) async throws {
        var revoke = Etcdserverpb_LeaseRevokeRequest()
        revoke.id = id
        _ = try await proposeOne { $0.leaseRevoke = revoke }
    }

    private func proposeOne(_ build: (inout Cairnpb_InternalRequest) -> Void) async throws -> AppliedResult {
        var request = Cairnpb_InternalRequest()
        build(&request)
        return try await propose(request)
    }
}

extension Lessor where C == ContinuousClock {
    /// The member's lessor, subscribed to its raft host before the host runs so it sees the
    /// first leadership event; proposals go through `server`.
    static func following(_ server: EtcdServer) async -> Lessor<ContinuousClock> {
        var options = Options(minimumTTLSeconds: minimumTTLSeconds(
            electionTimeoutMs: server.configuration.electionTimeoutMs,
            heartbeatIntervalMs: server.configuration.heartbeatIntervalMs))
        options.checkpointInterval = server.configuration.leaseCheckpointInterval
        let lessor = Lessor(clock: ContinuousClock(), store: server.store, options: options,
            logger: server.logger) { request in
            try await server.propose { $0 = request }
        }
        await server.host.subscribe { lessor.observe($0) }
        return lessor
    }
}
