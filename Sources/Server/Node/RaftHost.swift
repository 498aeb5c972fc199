import API
import Foundation
import GRPCCore
import Logging
import Raft
import Storage

/// The only owner of this member's ``RaftNode``: it feeds the node ticks, proposals and read
/// requests, and processes each ``Ready`` in order — persist to the WAL, send, apply to the
/// MVCC store, answer reads — then advances. Client requests await the outcome of their
/// entry, bounded by the request timeout.
actor RaftHost {
    typealias Identity = MemberIdentity

    private struct Waiter<Value: Sendable> {
        var continuation: CheckedContinuation<Value, any Error>
        var deadlineTick: Int
    }

    let identity: Identity
    let store: MVCCStore
    private var node: RaftNode
    private let raftStorage: MemoryStorage
    private let wal: WAL
    private let logger: Logger
    private let snapshotCount: UInt64
    private let snapshotCatchUpEntries: UInt64
    private let requestTimeoutTicks: Int

    private var appliedIndex: LogIndex
    private var confState: ConfState
    private(set) var term: Term
    private(set) var leader: NodeID = .none
    /// Changes to a new, known leader this member has seen (etcd_server_leader_changes_seen_total).
    private(set) var leaderChangesSeen = 0
    private var tick = 0
    private var stopped = false

    private var nextRequestID: UInt64
    private var writeWaiters: [UInt64: Waiter<AppliedResult>] = [:]
    private var confChangeWaiters: [UInt64: Waiter<[MemberRecord]>] = [:]
    /// Entries up to here are in the store already (applied before this start, or contained
    /// in an installed snapshot): their replay only rebuilds raft's membership.
    private var storeAppliedThrough: LogIndex
    /// Received snapshots' backend files by raft index, until raft accepts or supersedes them.
    private var receivedSnapshots: [LogIndex: String] = [:]
    /// Hands raft's messages to the peer transport.
    private var outbox: @Sendable ([Message]) -> Void = { _ in }
    private var readIndexWaiters: [[UInt8]: Waiter<LogIndex>] = [:]
    private var appliedWaiters: [(index: LogIndex, waiter: Waiter<Void>)] = []
    private var leaderWaiters: [(target: NodeID, waiter: Waiter<Void>)] = []

    private var listeners: [@Sendable (HostEvent) -> Void] = []

    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    init(identity: Identity, store: MVCCStore, wal: WAL, replay: WALReplay, raftConfig: RaftConfig,
        snapshotCount: UInt64, snapshotCatchUpEntries: UInt64 = 5000, requestTimeoutTicks: Int, logger: Logger) throws
    {
        let storage = MemoryStorage()
        if replay.snapshot.index > 0 {
            try storage.applySnapshot(Snapshot(metadata: replay.snapshot))
        }
        storage.append(replay.entries)
        storage.setHardState(replay.hardState)

        var config = raftConfig
        // Raft replays every entry after the WAL's snapshot so that membership changes reach
        // its configuration again; the store, which records the last entry it applied in the
        // same transaction as the data, skips what it already has (etcd's consistent index).
        config.applied = replay.snapshot.index
        storeAppliedThrough = try store.status().consistentIndex
        node = try RaftNode(config: config, storage: storage)

        self.identity = identity
        self.store = store
        self.wal = wal
        self.raftStorage = storage
        self.logger = logger
        self.snapshotCount = snapshotCount
        self.snapshotCatchUpEntries = snapshotCatchUpEntries
        self.requestTimeoutTicks = requestTimeoutTicks
        appliedIndex = config.applied
        confState = replay.snapshot.confState
        term = replay.hardState.term
        // Request ids: the member id's low 16 bits, then the start time, so ids stay unique
        // across members and restarts (etcd's scheme).
        let millis = UInt64(Date().timeIntervalSince1970 * 1000)
        nextRequestID = (identity.memberID & 0xFFFF) << 48 | (millis & 0xFF_FFFF_FFFF) << 8
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: - Driving the node

    /// Processes Ready until ``stop()``. Run it in its own task.
    func run() async {
        if confState.voters == [identity.memberID] {
            // A single voter needs no election timeout to know it wins.
            try? node.campaign()
        }
        wake()
        for await _ in wakeups {
            if stopped { break }
            await drainReady()
        }
    }

    /// One tick of the raft clock; also expires requests past their deadline.
    func onTick() {
        guard !stopped else { return }
        tick += 1
        node.tick()
        expireWaiters()
        wake()
    }

    func stop() {
        stopped = true
        let error = EtcdError.stopped
        failAll(with: error)
        wakeupContinuation.yield()
        wakeupContinuation.finish()
    }

    private func wake() {
        wakeupContinuation.yield()
    }

    private func drainReady() async {
        while !stopped && node.hasReady {
            let ready = node.ready()
            do {
                try await persist(ready)
            } catch {
                // Without a durable log nothing acknowledged can be trusted: stop serving.
                logger.critical("cannot persist raft state; stopping", metadata: ["error": "\(error)"])
                stop()
                return
            }
            outbox(ready.messages)
            if let snapshot = ready.snapshot {
                guard await install(snapshot.metadata) else { return }
            }
            if let soft = ready.softState {
                let wasLeader = leader == identity.memberID
                if soft.leader != leader {
                    logger.info("leader changed", metadata: ["leader": "\(String(soft.leader, radix: 16))", "role": "\(soft.role)"])
                    // Proposals and read requests handed to the old leader may be lost with it:
                    // answer them now (outcome unknown, as on a timeout) rather than at the
                    // request timeout, so clients retry against the new leader.
                    if leader != .none { failPending(with: EtcdError.leaderChanged) }
                    if soft.leader != .none { leaderChangesSeen += 1 }
                    leaderWaiters.removeAll { pending in
                        guard pending.target == soft.leader else { return false }
                        pending.waiter.continuation.resume()
                        return true
                    }
                }
                leader = soft.leader
                let isLeader = soft.role == .leader
                if isLeader != wasLeader { publish(.leadership(isLeader: isLeader)) }
            }
            if let hardState = ready.hardState { term = hardState.term }
            // Consecutive normal entries are applied in one store commit; membership changes,
            // which raft must see in order, one by one between them.
            var normal: [Entry] = []
            for entry in ready.committedEntries {
                if entry.kind == .normal {
                    normal.append(entry)
                    continue
                }
                await applyNormal(normal)
                normal = []
                await apply(entry)
            }
            await applyNormal(normal)
            for read in ready.readStates {
                readIndexWaiters.removeValue(forKey: read.context)?.continuation.resume(returning: read.index)
            }
            node.advance(ready)
            await compactLogIfDue()
        }
    }

    private func persist(_ ready: Ready) async throws {
        var records: [WALRecord] = []
        if let snapshot = ready.snapshot { records.append(.snapshot(snapshot.metadata)) }
        records.append(contentsOf: ready.entries.map(WALRecord.entry))
        if let hardState = ready.hardState { records.append(.hardState(hardState)) }
        if !records.isEmpty { try await wal.append(records) }
        if let snapshot = ready.snapshot { try raftStorage.applySnapshot(snapshot) }
        raftStorage.append(ready.entries)
        if let hardState = ready.hardState { raftStorage.setHardState(hardState) }
    }

    private func apply(_ entry: Entry) async {
        defer {
            appliedIndex = entry.index
            releaseAppliedWaiters()
        }
        guard entry.kind == .confChange else { return await applyNormal([entry]) }
        guard let change = try? ConfChange(decoding: entry.data) else {
            logger.error("undecodable conf change entry", metadata: ["index": "\(entry.index)"])
            return
        }
        await applyConfChange(change, entry: entry)
    }

    /// Applies normal entries (client requests) in log order, in one store commit; then, entry
    /// by entry, tells listeners and the waiting request what each produced.
    private func applyNormal(_ entries: [Entry]) async {
        // The leader's empty entry of each term carries nothing to apply; a replayed entry is
        // in the store already.
        var requests: [(entry: Entry, request: Cairnpb_InternalRequest)] = []
        for entry in entries where !entry.data.isEmpty && entry.index > storeAppliedThrough {
            do {
                requests.append((entry, try Cairnpb_InternalRequest(serializedBytes: entry.data)))
            } catch {
                logger.error("undecodable log entry", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            }
        }
        var outcomes: [Result<AppliedResult, any Error>]
        do {
            let applied = try await store.apply(requests.map { entry, request in
                MVCCStore.AppliedEntry(index: entry.index, term: entry.term) { transaction in
                    try AppliedResult.execute(request, index: entry.index, in: &transaction)
                }
            })
            outcomes = applied.map { $0 ?? .success(.alreadyApplied) }
        } catch {
            // The backend itself failed (a request's own failure is an outcome, not a throw).
            // Going on would skip these committed entries on this member alone; stopped, a
            // restart replays them from the WAL, as the backend never recorded them applied.
            logger.critical("the backend cannot apply committed entries; stopping", metadata: [
                "first-index": "\(requests.first?.entry.index ?? 0)", "last-index": "\(requests.last?.entry.index ?? 0)",
                "error": "\(error)",
            ])
            stop()
            return
        }
        var outcomeByIndex: [LogIndex: (request: Cairnpb_InternalRequest, outcome: Result<AppliedResult, any Error>)] = [:]
        for ((entry, request), outcome) in zip(requests, outcomes) { outcomeByIndex[entry.index] = (request, outcome) }
        for entry in entries {
            defer {
                appliedIndex = entry.index
                releaseAppliedWaiters()
            }
            guard let (request, outcome) = outcomeByIndex[entry.index] else { continue }
            // Listeners first: a token issued here must be known before its client can use it.
            if case .success(let result) = outcome, case .alreadyApplied = result {} else {
                publish(.applied(index: entry.index, result: try? outcome.get()))
            }
            writeWaiters.removeValue(forKey: request.id)?.continuation.resume(with: outcome)
            if case .success(.members) = outcome { publish(.membersChanged) }
        }
    }

    /// Applies a committed membership change to the stored members (in the entry's store
    /// transaction, so a replay skips it) and to raft; a member removed from the cluster stops.
    private func applyConfChange(_ change: ConfChange, entry: Entry) async {
        let context = try? Cairnpb_ConfChangeContext(serializedBytes: change.context)
        let member = context.flatMap { $0.hasMember ? MemberRecord($0.member) : nil }
        do {
            if entry.index > storeAppliedThrough {
                _ = try await store.apply(index: entry.index, term: entry.term) { transaction in
                    try Membership.apply(change, member: member, in: transaction)
                }
            }
        } catch {
            // The store cannot record the change: continuing would serve a membership that
            // disagrees with raft's.
            logger.critical("cannot store a membership change; stopping", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            stop()
            return
        }
        confState = node.applyConfChange(change)
        logger.info("membership changed", metadata: [
            "change": "\(change.kind)", "member-id": "\(String(change.nodeID, radix: 16))",
            "voters": "\(confState.voters.sorted().map { String($0, radix: 16) })",
            "learners": "\(confState.learners.sorted().map { String($0, radix: 16) })",
        ])
        if let id = context?.requestID, let waiter = confChangeWaiters.removeValue(forKey: id) {
            waiter.continuation.resume(with: Result { try store.members() })
        }
        publish(.membersChanged)
        if change.kind == .removeNode, change.nodeID == identity.memberID,
            !confState.voters.contains(identity.memberID), !confState.learners.contains(identity.memberID)
        {
            logger.warning("this member was removed from the cluster; stopping")
            publish(.removed)
        }
    }

    // MARK: - Peers

    /// Where raft's messages to other members go.
    func setOutbox(_ send: @escaping @Sendable ([Message]) -> Void) {
        outbox = send
    }

    /// Messages from other members.
    func step(_ messages: [Message]) {
        guard !stopped else { return }
        for message in messages {
            do {
                try node.step(message)
            } catch {
                logger.debug("dropped a raft message", metadata: ["type": "\(message.type)", "error": "\(error)"])
            }
        }
        wake()
    }

    /// A snapshot from the leader whose backend is durable at `file`.
    func receiveSnapshot(_ message: Message, file: String) {
        guard let index = message.snapshot?.metadata.index else { return }
        receivedSnapshots[index] = file
        step([message])
    }

    func reportUnreachable(_ id: NodeID) {
        node.reportUnreachable(id)
        wake()
    }

    func reportSnapshot(to id: NodeID, succeeded: Bool) {
        node.reportSnapshot(to: id, succeeded: succeeded)
        wake()
    }

    /// Raft accepted a snapshot (already in the WAL): its backend file replaces the store.
    /// Returns false, having stopped the member, when that is impossible.
    private func install(_ metadata: SnapshotMetadata) async -> Bool {
        guard let file = receivedSnapshots[metadata.index] else {
            logger.critical("raft accepted a snapshot whose backend was never received; stopping",
                metadata: ["index": "\(metadata.index)"])
            stop()
            return false
        }
        Failpoint.crashDuringSnapshotApply.crashIfArmed()
        do {
            try await store.replace(withFileAt: file)
            let status = try store.status()
            storeAppliedThrough = status.consistentIndex
            appliedIndex = metadata.index
            confState = metadata.confState
            for (index, stale) in receivedSnapshots where index <= metadata.index {
                if stale != file { unlink(stale) }
                receivedSnapshots[index] = nil
            }
            logger.info("installed raft snapshot", metadata: [
                "index": "\(metadata.index)", "term": "\(metadata.term)", "store-applied-index": "\(status.consistentIndex)",
                "revision": "\(status.revision)",
            ])
            publish(.storeReplaced)
            return true
        } catch {
            logger.critical("cannot install a raft snapshot; stopping", metadata: ["index": "\(metadata.index)", "error": "\(error)"])
            stop()
            return false
        }
    }

    // MARK: - Events

    /// What the rest of the member follows: watchers wake on applied writes, the lessor runs
    /// only on the leader.
    enum HostEvent: Sendable {
        /// An entry was applied; `result` is nil when the request failed.
        case applied(index: LogIndex, result: AppliedResult?)
        case leadership(isLeader: Bool)
        /// This member is no longer part of the cluster: the server shuts down.
        case removed
        /// The member list changed (a membership change, new URLs or a started member).
        case membersChanged
        /// The store was replaced by a snapshot from the leader: revision, leases and members
        /// may all have moved.
        case storeReplaced
    }

    /// Registers `listener`, called on the host's executor for every event: it must return
    /// quickly (hand the event to its own task or stream).
    func subscribe(_ listener: @escaping @Sendable (HostEvent) -> Void) {
        listeners.append(listener)
    }

    private func publish(_ event: HostEvent) {
        for listener in listeners { listener(event) }
    }

    var isLeader: Bool { leader == identity.memberID }

    /// Every `snapshotCount` applied entries: make the store durable, record a raft snapshot
    /// marker, trim the in-memory log and release WAL segments the store now covers.
    private func compactLogIfDue() async {
        let snapshotIndex = raftStorage.snapshot().metadata.index
        guard appliedIndex >= snapshotIndex + snapshotCount else { return }
        do {
            try store.sync()
            let snapshot = try raftStorage.createSnapshot(at: appliedIndex, confState: confState, data: [])
            try await wal.append([.snapshot(snapshot.metadata)])
            // Keep some entries so a slightly lagging follower catches up from the log.
            let keep = min(appliedIndex - 1, snapshotCatchUpEntries)
            if appliedIndex - keep > raftStorage.firstIndex() - 1 {
                try raftStorage.compact(upTo: appliedIndex - keep)
            }
            let released = try await wal.releaseSegments()
            logger.info("raft snapshot", metadata: ["index": "\(appliedIndex)", "released-wal-segments": "\(released.count)"])
        } catch {
            logger.error("raft snapshot failed", metadata: ["index": "\(appliedIndex)", "error": "\(error)"])
        }
    }

    // MARK: - Client requests

    /// Proposes `request` and returns what applying it produced.
    func propose(_ request: Cairnpb_InternalRequest, maxRequestBytes: Int) async throws -> AppliedResult {
        guard !stopped else { throw EtcdError.stopped }
        var request = request
        nextRequestID &+= 1
        request.id = nextRequestID
        let data: [UInt8] = try request.serializedBytes()
        guard data.count <= maxRequestBytes else { throw EtcdError.requestTooLarge }
        if let refusal = proposeToRaft(data) {
            throw refusal
        }
        wake()
        let id = request.id
        return try await withCheckedThrowingContinuation { continuation in
            writeWaiters[id] = Waiter(continuation: continuation, deadlineTick: tick + requestTimeoutTicks)
        }
    }

    /// Proposes adding, promoting or removing `member` and returns the members once the
    /// change is applied.
    func proposeConfChange(_ kind: ConfChange.Kind, member: MemberRecord) async throws -> [MemberRecord] {
        guard !stopped else { throw EtcdError.stopped }
        nextRequestID &+= 1
        let id = nextRequestID
        var context = Cairnpb_ConfChangeContext()
        context.requestID = id
        context.member = Etcdserverpb_Member(member)
        let change = ConfChange(kind: kind, nodeID: member.id, context: try context.serializedBytes())
        do {
            try node.proposeConfChange(change)
        } catch {
            if leader == .none { throw EtcdError.noLeader }
            throw RPCError(code: .unavailable, message: "etcdserver: membership change refused: \(error.message)")
        }
        wake()
        return try await withCheckedThrowingContinuation { continuation in
            confChangeWaiters[id] = Waiter(continuation: continuation, deadlineTick: tick + requestTimeoutTicks)
        }
    }

    /// Asks raft to hand leadership to `target` and returns once it leads (etcd's MoveLeader).
    func transferLeadership(to target: NodeID) async throws {
        guard leader != target else { return }
        node.transferLeadership(to: target)
        wake()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            leaderWaiters.append((target, Waiter(continuation: continuation, deadlineTick: tick + requestTimeoutTicks)))
        }
    }

    /// Hands `data` to raft; returns etcd's error when raft refuses it.
    private func proposeToRaft(_ data: [UInt8]) -> RPCError? {
        do {
            try node.propose(data)
            return nil
        } catch {
            return leader == .none ? EtcdError.noLeader : EtcdError.leaderChanged
        }
    }

    /// Returns once this member has applied everything committed before the call: reads
    /// served after it are linearizable (raft's ReadIndex).
    func linearizableBarrier() async throws {
        guard !stopped else { throw EtcdError.stopped }
        if Failpoint.skipReadIndex.isActive { return }
        nextRequestID &+= 1
        let context = withUnsafeBytes(of: nextRequestID.bigEndian) { Array($0) }
        node.readIndex(context: context)
        wake()
        let readIndex = try await withCheckedThrowingContinuation { continuation in
            readIndexWaiters[context] = Waiter(continuation: continuation, deadlineTick: tick + requestTimeoutTicks)
        }
        try await waitUntilApplied(readIndex)
    }

    private func waitUntilApplied(_ index: LogIndex) async throws {
        guard appliedIndex < index else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            appliedWaiters.append((index, Waiter(continuation: continuation, deadlineTick: tick + requestTimeoutTicks)))
        }
    }

    private func releaseAppliedWaiters() {
        guard !appliedWaiters.isEmpty else { return }
        appliedWaiters.removeAll { pending in
            guard pending.index <= appliedIndex else { return false }
            pending.waiter.continuation.resume()
            return true
        }
    }

    private func expireWaiters() {
        for (id, waiter) in writeWaiters where waiter.deadlineTick <= tick {
            writeWaiters[id] = nil
            waiter.continuation.resume(throwing: EtcdError.timeout)
        }
        for (id, waiter) in confChangeWaiters where waiter.deadlineTick <= tick {
            confChangeWaiters[id] = nil
            waiter.continuation.resume(throwing: EtcdError.timeout)
        }
        for (context, waiter) in readIndexWaiters where waiter.deadlineTick <= tick {
            readIndexWaiters[context] = nil
            waiter.continuation.resume(throwing: leader == .none ? EtcdError.noLeader : EtcdError.timeout)
        }
        appliedWaiters.removeAll { pending in
            guard pending.waiter.deadlineTick <= tick else { return false }
            pending.waiter.continuation.resume(throwing: EtcdError.timeout)
            return true
        }
        leaderWaiters.removeAll { pending in
            guard pending.waiter.deadlineTick <= tick else { return false }
            pending.waiter.continuation.resume(throwing: EtcdError.leaderTransferTimeout)
            return true
        }
    }

    /// Fails the requests waiting on raft (not those waiting for a local apply).
    private func failPending(with error: any Error) {
        for waiter in writeWaiters.values { waiter.continuation.resume(throwing: error) }
        for waiter in confChangeWaiters.values { waiter.continuation.resume(throwing: error) }
        for waiter in readIndexWaiters.values { waiter.continuation.resume(throwing: error) }
        writeWaiters = [:]
        confChangeWaiters = [:]
        readIndexWaiters = [:]
    }

    private func failAll(with error: any Error) {
        failPending(with: error)
        for pending in appliedWaiters { pending.waiter.continuation.resume(throwing: error) }
        appliedWaiters = []
        for pending in leaderWaiters { pending.waiter.continuation.resume(throwing: error) }
        leaderWaiters = []
    }

    // MARK: - Observing

    struct Status: Sendable {
        var term: Term
        var leader: NodeID
        var commitIndex: LogIndex
        var appliedIndex: LogIndex
        var isLearner: Bool
        /// How far each member's log matches the leader's; only on the leader.
        var matched: [NodeID: LogIndex]
        /// The members the leader heard from within the last election timeout (itself
        /// included); only on the leader.
        var recentlyActive: Set<NodeID>
    }

    var status: Status {
        let raftStatus = node.status
        return Status(term: raftStatus.hardState.term, leader: raftStatus.softState.leader,
            commitIndex: raftStatus.hardState.commit, appliedIndex: appliedIndex,
            isLearner: raftStatus.confState.learners.contains(identity.memberID),
            matched: raftStatus.progress.mapValues(\.match),
            recentlyActive: Set(raftStatus.progress.filter { $0.key == identity.memberID || $0.value.recentActive }.keys))
    }
}
