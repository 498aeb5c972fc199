/// The raft state machine of one node: deterministic, with no I/O, clock or threads. Inputs are
/// ``tick()`` and ``step(_:)``; outputs accumulate in `messages`, `readStates` and the log, and
/// ``RaftNode`` packages them as a ``Ready``. One step function per role sits behind the
/// term-checking ``step(_:)``, as in etcd-io/raft.
struct Raft {
    enum CampaignKind {
        case preElection
        case election
        /// Triggered by `timeoutNow`: skips the pre-vote and overrides voters' leader leases.
        case transfer
    }

    let id: NodeID
    private(set) var term: Term = 0
    private(set) var vote: NodeID = .none
    private(set) var role: RaftRole = .follower
    private(set) var leader: NodeID = .none
    private(set) var isLearner = false

    var log: RaftLog
    var tracker: ProgressTracker
    var messages: [Message] = []
    var readStates: [ReadState] = []

    private(set) var leadTransferee: NodeID = .none
    /// The index of the latest conf change the leader appended; a new one is refused until the
    /// application has applied past it. Also set to the leader's first entry on election, so no
    /// conf change is accepted before the new term has committed something (Raft thesis §4.1).
    private var pendingConfIndex: LogIndex = 0
    private var readOnly: ReadOnly
    /// ReadIndex requests that arrived before this leader committed an entry of its own term.
    private var pendingReadIndexMessages: [Message] = []

    private var electionElapsed = 0
    private var heartbeatElapsed = 0
    private var randomizedElectionTimeout = 0
    private var random: SplitMix64

    let electionTimeout: Int
    let heartbeatTimeout: Int
    let checkQuorum: Bool
    let preVote: Bool
    let maxMessageSizeBytes: Int
    let disableProposalForwarding: Bool
    let stepDownOnRemoval: Bool

    init(config: RaftConfig, storage: any RaftStorage) throws(RaftError) {
        try config.validate()
        id = config.id
        electionTimeout = config.electionTicks
        heartbeatTimeout = config.heartbeatTicks
        checkQuorum = config.checkQuorum
        preVote = config.preVote
        maxMessageSizeBytes = config.maxSizePerMessageBytes
        disableProposalForwarding = config.disableProposalForwarding
        stepDownOnRemoval = config.stepDownOnRemoval
        readOnly = ReadOnly(option: config.readOnlyOption)
        random = SplitMix64(seed: config.randomSeed ^ config.id)
        log = RaftLog(storage: storage, maxCommittedSizePerReadyBytes: config.maxCommittedSizePerReadyBytes)
        tracker = ProgressTracker(maxInflight: config.maxInflightMessages)

        let (hardState, confState) = try storage.initialState()
        tracker.reset(to: confState, next: log.lastIndex + 1)
        isLearner = confState.learners.contains(id)
        if !hardState.isEmpty {
            guard hardState.commit >= log.committed, hardState.commit <= log.lastIndex else {
                throw RaftError(.invalidConfig,
                    "persisted commit \(hardState.commit) is outside the log [\(log.committed), \(log.lastIndex)]")
            }
            log.commit(to: hardState.commit)
            term = hardState.term
            vote = hardState.vote
        }
        if config.applied > 0 {
            log.applied(to: config.applied)
        }
        becomeFollower(term: term, leader: .none)
    }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(leader: leader, role: role) }

    /// Voters can campaign; learners and nodes outside the membership cannot.
    var isPromotable: Bool { tracker.voters.contains(id) }

    // MARK: - Role changes

    private mutating func reset(term newTerm: Term) {
        if term != newTerm {
            term = newTerm
            vote = .none
        }
        leader = .none
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = electionTimeout + Int(random.next(upperBound: UInt64(electionTimeout)))
        leadTransferee = .none
        tracker.resetVotes()
        let lastIndex = log.lastIndex
        for memberID in tracker.sortedIDs {
            let isLearner = tracker.progress[memberID]!.isLearner
            var fresh = Progress(next: lastIndex + 1, maxInflight: tracker.maxInflight, isLearner: isLearner)
            if memberID == id { fresh.match = lastIndex }
            tracker.progress[memberID] = fresh
        }
        pendingConfIndex = 0
        readOnly = ReadOnly(option: readOnly.option)
        pendingReadIndexMessages = []
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        reset(term: newTerm)
        leader = newLeader
        role = .follower
    }

    private mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become pre-candidate")
        // A pre-election changes neither term nor vote: losing it leaves no trace.
        tracker.resetVotes()
        leader = .none
        role = .preCandidate
    }

    private mutating func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become candidate")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    private mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate can become leader (was \(role))")
        reset(term: term)
        leader = id
        role = .leader
        tracker.progress[id]?.becomeReplicate()
        tracker.progress[id]?.recentActive = true
        let appended = appendEntries([Entry(term: term, index: 0)])
        precondition(appended, "a new leader must be able to append its empty entry")
        pendingConfIndex = log.lastIndex
    }

    // MARK: - Ticks

    mutating func tick() {
        if role == .leader {
            tickHeartbeat()
        } else {
            tickElection()
        }
    }

    private mutating func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            try? step(Message(type: .hup, from: id))
        }
    }

    private mutating func tickHeartbeat() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= electionTimeout {
            electionElapsed = 0
            if checkQuorum {
                try? step(Message(type: .checkQuorum, from: id))
            }
            // A transfer that did not finish within an election timeout is abandoned.
            if role == .leader && leadTransferee != .none {
                leadTransferee = .none
            }
        }
        guard role == .leader else { return }
        if heartbeatElapsed >= heartbeatTimeout {
            heartbeatElapsed = 0
            try? step(Message(type: .beat, from: id))
        }
    }

    // MARK: - Step

    /// Feeds one message to the state machine. Only proposals report failure.
    mutating func step(_ message: Message) throws(RaftError) {
        if message.term == 0 {
            // Local message, or a forwarded proposal / read index: no term to check.
        } else if message.term > term {
            if message.type == .vote || message.type == .preVote {
                let force = message.context == Message.transferContext
                let inLease = checkQuorum && leader != .none && electionElapsed < electionTimeout
                if !force && inLease {
                    // We heard from a leader within the minimum election timeout: this
                    // candidate cannot win, and granting would disrupt a healthy group.
                    return
                }
            }
            switch message.type {
            case .preVote:
                break  // Never change term because of a pre-vote request.
            case .preVoteResponse where !message.reject:
                break  // The term is bumped when the pre-election is won.
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: .none)
            }
        } else if message.term < term {
            if (checkQuorum || preVote) && (message.type == .heartbeat || message.type == .append) {
                // A stale leader, perhaps cut off and now back: tell it the current term so it
                // steps down. Ignoring it could leave it stuck (it never hears a higher term
                // because our pre-votes and its lease keep everyone quiet).
                send(Message(type: .appendResponse, to: message.from))
            } else if message.type == .preVote {
                send(Message(type: .preVoteResponse, to: message.from, term: term, reject: true))
            }
            return
        }

        switch message.type {
        case .hup:
            hup(preVote ? .preElection : .election)
        case .vote, .preVote:
            handleVoteRequest(message)
        default:
            switch role {
            case .leader: try stepLeader(message)
            case .candidate, .preCandidate: try stepCandidate(message)
            case .follower: try stepFollower(message)
            }
        }
    }

    private mutating func handleVoteRequest(_ message: Message) {
        let canVote = vote == message.from
            || (vote == .none && leader == .none)
            || (message.type == .preVote && message.term > term)
        let responseType: MessageType = message.type == .vote ? .voteResponse : .preVoteResponse
        if canVote && log.isUpToDate(index: message.index, term: message.logTerm) {
            // Answer with the request's term: a pre-vote is granted for a term not yet reached.
            send(Message(type: responseType, to: message.from, term: message.term))
            if message.type == .vote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(Message(type: responseType, to: message.from, term: term, reject: true))
        }
    }

    private mutating func hup(_ kind: CampaignKind) {
        guard role != .leader, isPromotable, !hasUnappliedConfChanges() else { return }
        campaign(kind)
    }

    /// A conf change that is committed but not applied may change who votes: wait for it.
    private func hasUnappliedConfChanges() -> Bool {
        guard log.committed > log.applied else { return false }
        let entries = (try? log.slice(from: max(log.applied + 1, log.firstIndex), to: log.committed + 1,
            maxSizeBytes: Int.max)) ?? []
        return entries.contains { $0.kind == .confChange }
    }

    private mutating func campaign(_ kind: CampaignKind) {
        let voteType: MessageType
        let voteTerm: Term
        if kind == .preElection {
            becomePreCandidate()
            voteType = .preVote
            voteTerm = term + 1
        } else {
            becomeCandidate()
            voteType = .vote
            voteTerm = term
        }
        tracker.recordVote(id, granted: true)
        if tracker.tallyVotes() == .won {
            // A single voter wins at once.
            if kind == .preElection { campaign(.election) } else { becomeLeader() }
            return
        }
        for voter in tracker.sortedVoterIDs where voter != id {
            send(Message(type: voteType, to: voter, term: voteTerm, logTerm: log.lastTerm, index: log.lastIndex,
                context: kind == .transfer ? Message.transferContext : []))
        }
    }

    // MARK: - Leader

    private mutating func stepLeader(_ message: Message) throws(RaftError) {
        switch message.type {
        case .beat:
            broadcastHeartbeat()
            return
        case .checkQuorum:
            if !tracker.checkQuorumActive(selfID: id) {
                becomeFollower(term: term, leader: .none)
            }
            return
        case .propose:
            try handleProposal(message)
            return
        case .readIndex:
            handleReadIndex(message)
            return
        default:
            break
        }

        let from = message.from
        guard tracker.progress[from] != nil else { return }
        switch message.type {
        case .appendResponse:
            handleAppendResponse(message)
        case .heartbeatResponse:
            handleHeartbeatResponse(message)
        case .snapshotStatus:
            guard tracker.progress[from]!.state == .snapshot else { return }
            if message.reject {
                // Sending failed: probe again, which sends the latest snapshot if still needed.
                tracker.progress[from]!.pendingSnapshot = 0
            }
            tracker.progress[from]!.becomeProbe()
            // Wait for a heartbeat response before the next probe, as after any probe.
            tracker.progress[from]!.msgAppFlowPaused = true
        case .unreachable:
            // Appends may have been lost: stop streaming and find the match again.
            if tracker.progress[from]!.state == .replicate { tracker.progress[from]!.becomeProbe() }
        case .transferLeader:
            handleTransferLeader(to: from)
        default:
            break
        }
    }

    private mutating func handleAppendResponse(_ message: Message) {
        let from = message.from
        tracker.progress[from]!.recentActive = true
        if message.reject {
            var nextProbe = message.rejectHint
            if message.logTerm > 0 {
                nextProbe = log.findConflictByTerm(index: message.rejectHint, term: message.logTerm).index
            }
            if tracker.progress[from]!.maybeDecrement(rejected: message.index, matchHint: nextProbe) {
                if tracker.progress[from]!.state == .replicate { tracker.progress[from]!.becomeProbe() }
                sendAppend(to: from)
            }
            return
        }
        let wasPaused = tracker.progress[from]!.isPaused
        // An acknowledgement of exactly what we know the follower has still proves a probe
        // found the match point: switch it to replicate.
        let probeConfirmed = tracker.progress[from]!.state == .probe && tracker.progress[from]!.match == message.index
        guard tracker.progress[from]!.maybeUpdate(message.index) || probeConfirmed else { return }
        switch tracker.progress[from]!.state {
        case .probe:
            tracker.progress[from]!.becomeReplicate()
        case .snapshot where tracker.progress[from]!.match + 1 >= log.firstIndex:
            // Caught up (through the snapshot or otherwise) with what the log still holds.
            tracker.progress[from]!.becomeProbe()
            tracker.progress[from]!.becomeReplicate()
        case .snapshot where tracker.progress[from]!.match >= tracker.progress[from]!.pendingSnapshot:
            // The snapshot landed but the log has been compacted past it since: probing
            // finds that out and sends a newer snapshot.
            tracker.progress[from]!.becomeProbe()
        case .snapshot:
            break
        case .replicate:
            tracker.progress[from]!.inflights.freeLE(message.index)
        }
        if maybeCommit() {
            releasePendingReadIndexMessages()
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: from)
        }
        // Fill the inflight window while there is room and something to send; each round
        // either sends entries (advancing `next`) or stops, so the loop is bounded by the log.
        while maybeSendAppend(to: from, sendIfEmpty: false) {}
        if from == leadTransferee && tracker.progress[from]?.match == log.lastIndex {
            send(Message(type: .timeoutNow, to: from))
        }
    }

    private mutating func handleHeartbeatResponse(_ message: Message) {
        let from = message.from
        tracker.progress[from]!.recentActive = true
        tracker.progress[from]!.msgAppFlowPaused = false
        if tracker.progress[from]!.state == .replicate && tracker.progress[from]!.inflights.isFull {
            // Otherwise a window whose appends (or their acknowledgements) were all lost stays
            // full forever and the follower never catches up.
            tracker.progress[from]!.inflights.freeFirstOne()
        }
        if tracker.progress[from]!.match < log.lastIndex {
            sendAppend(to: from)
        }
        guard readOnly.option == .safe, !message.context.isEmpty,
            let acks = readOnly.receiveAck(from: from, context: message.context),
            Majority.result(voters: tracker.voters, votes: acks) == .won
        else { return }
        for status in readOnly.advance(through: message.context) {
            respondToReadIndex(status.request, index: status.index)
        }
    }

    private mutating func handleProposal(_ message: Message) throws(RaftError) {
        precondition(!message.entries.isEmpty, "a proposal carries at least one entry")
        guard tracker.progress[id] != nil else {
            throw RaftError(.proposalDropped, "node \(id) is not a member of the group")
        }
        guard leadTransferee == .none else {
            throw RaftError(.proposalDropped, "leadership is being transferred to \(leadTransferee)")
        }
        let entries = message.entries
        for position in entries.indices where entries[position].kind == .confChange {
            if let refusal = refusalOfConfChange(entries[position]) {
                throw RaftError(.proposalDropped, refusal)
            }
            pendingConfIndex = log.lastIndex + LogIndex(position) + 1
        }
        guard appendEntries(entries) else {
            throw RaftError(.proposalDropped, "the leader could not append the proposal")
        }
        broadcastAppend()
    }

    /// Why the leader refuses a conf change now, or nil to accept it.
    private func refusalOfConfChange(_ entry: Entry) -> String? {
        if pendingConfIndex > log.applied {
            return "a membership change is still pending (index \(pendingConfIndex), applied \(log.applied))"
        }
        guard let change = try? ConfChange(decoding: entry.data) else {
            return "the membership change does not decode"
        }
        switch change.kind {
        case .removeNode where tracker.voters == [change.nodeID]:
            return "removing \(change.nodeID) would leave the group without voters"
        case .addLearner where tracker.voters.contains(change.nodeID):
            return "\(change.nodeID) is a voter; demoting a voter to learner is not supported"
        default:
            return nil
        }
    }

    private mutating func handleReadIndex(_ message: Message) {
        if tracker.isSingleton {
            respondToReadIndex(message, index: log.committed)
            return
        }
        // Until this leader commits an entry of its term it does not know the group's commit
        // index (it may lag the previous leader's): hold the request.
        guard committedEntryInCurrentTerm else {
            pendingReadIndexMessages.append(message)
            return
        }
        sendReadIndexResponse(message)
    }

    private var committedEntryInCurrentTerm: Bool {
        (try? log.term(at: log.committed)) == term
    }

    private mutating func releasePendingReadIndexMessages() {
        guard !pendingReadIndexMessages.isEmpty, committedEntryInCurrentTerm else { return }
        let held = pendingReadIndexMessages
        pendingReadIndexMessages = []
        for message in held { sendReadIndexResponse(message) }
    }

    private mutating func sendReadIndexResponse(_ message: Message) {
        switch readOnly.option {
        case .safe:
            readOnly.add(request: message, index: log.committed)
            _ = readOnly.receiveAck(from: id, context: message.context)
            broadcastHeartbeat(context: message.context)
        case .leaseBased:
            respondToReadIndex(message, index: log.committed)
        }
    }

    private mutating func respondToReadIndex(_ request: Message, index: LogIndex) {
        if request.from == .none || request.from == id {
            readStates.append(ReadState(index: index, context: request.context))
        } else {
            send(Message(type: .readIndexResponse, to: request.from, index: index, context: request.context))
        }
    }

    private mutating func handleTransferLeader(to transferee: NodeID) {
        guard let progress = tracker.progress[transferee], !progress.isLearner, transferee != id else { return }
        if leadTransferee != .none {
            if leadTransferee == transferee { return }
            leadTransferee = .none
        }
        // The transfer must finish within one election timeout.
        electionElapsed = 0
        leadTransferee = transferee
        if progress.match == log.lastIndex {
            send(Message(type: .timeoutNow, to: transferee))
        } else {
            sendAppend(to: transferee)
        }
    }

    /// Assigns term and index to `entries`, appends them and counts the leader's own copy.
    private mutating func appendEntries(_ entries: [Entry]) -> Bool {
        var entries = entries
        let lastIndex = log.lastIndex
        for position in entries.indices {
            entries[position].term = term
            entries[position].index = lastIndex + 1 + LogIndex(position)
        }
        let newLast = log.append(entries)
        _ = tracker.progress[id]?.maybeUpdate(newLast)
        _ = maybeCommit()
        return true
    }

    private mutating func maybeCommit() -> Bool {
        log.maybeCommit(index: tracker.committedIndex(), term: term)
    }

    private mutating func broadcastAppend() {
        for memberID in tracker.sortedIDs where memberID != id {
            sendAppend(to: memberID)
        }
    }

    private mutating func broadcastHeartbeat(context: [UInt8]? = nil) {
        let context = context ?? readOnly.lastPendingContext ?? []
        for memberID in tracker.sortedIDs where memberID != id {
            guard let progress = tracker.progress[memberID] else { continue }
            // Never tell a follower to commit past what it is known to hold.
            let commit = min(progress.match, log.committed)
            send(Message(type: .heartbeat, to: memberID, commit: commit, context: context))
        }
    }

    private mutating func sendAppend(to memberID: NodeID) {
        _ = maybeSendAppend(to: memberID, sendIfEmpty: true)
    }

    /// Sends entries (or, when they are compacted, a snapshot) to one member. Returns whether a
    /// message was sent.
    private mutating func maybeSendAppend(to memberID: NodeID, sendIfEmpty: Bool) -> Bool {
        guard var progress = tracker.progress[memberID], !progress.isPaused else { return false }
        let previousIndex = progress.next - 1
        let previousTerm = try? log.term(at: previousIndex)
        let entries = try? log.entries(from: progress.next, maxSizeBytes: maxMessageSizeBytes)
        if let entries, entries.isEmpty && !sendIfEmpty { return false }

        guard let previousTerm, let entries else {
            // The entries this member needs are compacted: send the snapshot instead.
            guard progress.recentActive else { return false }
            guard let snapshot = try? log.snapshot(), !snapshot.isEmpty else { return false }
            progress.becomeSnapshot(snapshot.metadata.index)
            tracker.progress[memberID] = progress
            send(Message(type: .snapshot, to: memberID, snapshot: snapshot))
            return true
        }
        send(Message(type: .append, to: memberID, logTerm: previousTerm, index: previousIndex, entries: entries,
            commit: log.committed))
        if let last = entries.last {
            progress.sentEntries(upTo: last.index)
        }
        tracker.progress[memberID] = progress
        return true
    }

    // MARK: - Candidate

    private mutating func stepCandidate(_ message: Message) throws(RaftError) {
        let myResponseType: MessageType = role == .preCandidate ? .preVoteResponse : .voteResponse
        switch message.type {
        case .propose:
            throw RaftError(.proposalDropped, "no leader at term \(term): an election is running")
        case .append:
            becomeFollower(term: message.term, leader: message.from)
            handleAppendEntries(message)
        case .heartbeat:
            becomeFollower(term: message.term, leader: message.from)
            handleHeartbeat(message)
        case .snapshot:
            becomeFollower(term: message.term, leader: message.from)
            handleSnapshot(message)
        case myResponseType:
            tracker.recordVote(message.from, granted: !message.reject)
            switch tracker.tallyVotes() {
            case .won:
                if role == .preCandidate {
                    campaign(.election)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                // A rejection with a higher term already made us a follower of that term.
                becomeFollower(term: term, leader: .none)
            case .pending:
                break
            }
        default:
            break
        }
    }

    // MARK: - Follower

    private mutating func stepFollower(_ message: Message) throws(RaftError) {
        switch message.type {
        case .propose:
            guard leader != .none else {
                throw RaftError(.proposalDropped, "no leader at term \(term)")
            }
            guard !disableProposalForwarding else {
                throw RaftError(.proposalDropped, "proposal forwarding is disabled; the leader is \(leader)")
            }
            var forwarded = message
            forwarded.to = leader
            send(forwarded)
        case .append:
            electionElapsed = 0
            leader = message.from
            handleAppendEntries(message)
        case .heartbeat:
            electionElapsed = 0
            leader = message.from
            handleHeartbeat(message)
        case .snapshot:
            electionElapsed = 0
            leader = message.from
            handleSnapshot(message)
        case .transferLeader, .readIndex:
            guard leader != .none else { return }
            var forwarded = message
            forwarded.to = leader
            send(forwarded)
        case .timeoutNow:
            hup(.transfer)
        case .readIndexResponse:
            readStates.append(ReadState(index: message.index, context: message.context))
        default:
            break
        }
    }

    private mutating func handleAppendEntries(_ message: Message) {
        if message.index < log.committed {
            send(Message(type: .appendResponse, to: message.from, index: log.committed))
            return
        }
        if let lastNew = log.maybeAppend(index: message.index, logTerm: message.logTerm, committed: message.commit,
            entries: message.entries)
        {
            send(Message(type: .appendResponse, to: message.from, index: lastNew))
            return
        }
        // Tell the leader where our log might match, so it skips a whole term per round trip.
        let hint = log.findConflictByTerm(index: min(message.index, log.lastIndex), term: message.logTerm)
        send(Message(type: .appendResponse, to: message.from, logTerm: hint.term, index: message.index,
            reject: true, rejectHint: hint.index))
    }

    private mutating func handleHeartbeat(_ message: Message) {
        log.commit(to: message.commit)
        send(Message(type: .heartbeatResponse, to: message.from, context: message.context))
    }

    private mutating func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else { return }
        if restore(snapshot) {
            send(Message(type: .appendResponse, to: message.from, index: log.lastIndex))
        } else {
            send(Message(type: .appendResponse, to: message.from, index: log.committed))
        }
    }

    /// Installs a snapshot from the leader; false when it brings nothing new.
    private mutating func restore(_ snapshot: Snapshot) -> Bool {
        let metadata = snapshot.metadata
        guard metadata.index > log.committed else { return false }
        guard role == .follower else {
            // Only a leader of this term sends snapshots, so we cannot be one: be safe anyway.
            becomeFollower(term: term + 1, leader: .none)
            return false
        }
        if log.matchTerm(metadata.index, metadata.term) {
            // We already hold the snapshot's last entry: only the commit index moves.
            log.commit(to: metadata.index)
            return false
        }
        log.restore(snapshot)
        tracker.reset(to: metadata.confState, next: log.lastIndex + 1)
        isLearner = metadata.confState.learners.contains(id)
        return true
    }

    // MARK: - Membership

    mutating func applyConfChange(_ change: ConfChange) -> ConfState {
        let next = log.lastIndex + 1
        switch change.kind {
        case .addNode:
            tracker.addVoter(change.nodeID, next: next)
        case .addLearner:
            // Demoting a voter is refused at proposal time; ignore it here too so every
            // node applies the same (deterministic) outcome.
            if !tracker.voters.contains(change.nodeID) {
                tracker.addLearner(change.nodeID, next: next)
            }
        case .removeNode:
            if tracker.voters != [change.nodeID] {
                tracker.remove(change.nodeID)
            }
        }
        isLearner = tracker.learners.contains(id)
        if role == .leader && !tracker.voters.contains(id) && stepDownOnRemoval {
            becomeFollower(term: term, leader: .none)
            return tracker.confState
        }
        guard role == .leader else { return tracker.confState }
        if maybeCommit() {
            // A smaller quorum can commit at once.
            releasePendingReadIndexMessages()
            broadcastAppend()
        } else {
            for memberID in tracker.sortedIDs where memberID != id {
                _ = maybeSendAppend(to: memberID, sendIfEmpty: false)
            }
        }
        if leadTransferee != .none && !tracker.voters.contains(leadTransferee) {
            leadTransferee = .none
        }
        return tracker.confState
    }

    // MARK: - Output

    private mutating func send(_ message: Message) {
        var message = message
        if message.from == .none { message.from = id }
        switch message.type {
        case .vote, .voteResponse, .preVote, .preVoteResponse:
            // Votes carry the term they are for, which is not always ours (a pre-vote asks for
            // term + 1).
            precondition(message.term != 0, "\(message.type) must carry a term")
        case .propose, .readIndex:
            // Forwarded requests stay term-less: the leader treats them as local.
            break
        default:
            message.term = term
        }
        messages.append(message)
    }

    mutating func applied(to index: LogIndex) {
        log.applied(to: index)
    }
}
