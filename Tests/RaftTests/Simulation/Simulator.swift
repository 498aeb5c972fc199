@testable import Raft

/// The fault mix and schedule of one simulated run, all derived from its seed.
struct SimulationOptions {
    var seed: UInt64
    var initialVoters: Int
    var chaosTicks: Int
    var electionTicks = 10
    var dropRate: Double
    var duplicateRate: Double
    /// Message delay upper bound, in sub-ticks (a tick has ``Simulator/subTicksPerTick``).
    var maxDelaySubTicks: Int
    var crashRate: Double
    var restartRate: Double
    var crashBeforeSendRate: Double
    var partitionRate: Double
    var partitionHealRate: Double
    var proposalRate: Double
    var confChangeRate: Double
    var transferRate: Double
    var readIndexRate: Double
    var snapshotInterval: Int
    /// Ticks allowed, once every fault is healed, for a leader to emerge and commit everywhere.
    var livenessTicks = 600

    init(seed: UInt64) {
        var random = SimRandom(seed: seed)
        self.seed = seed
        initialVoters = random.chance(0.5) ? 3 : 5
        chaosTicks = random.int(300...700)
        dropRate = Double(random.int(0...20)) / 100
        duplicateRate = Double(random.int(0...5)) / 100
        maxDelaySubTicks = random.int(1...30)
        crashRate = Double(random.int(0...10)) / 1000
        restartRate = 0.05
        crashBeforeSendRate = Double(random.int(0...5)) / 1000
        partitionRate = Double(random.int(0...10)) / 1000
        partitionHealRate = 0.03
        proposalRate = Double(random.int(10...60)) / 100
        confChangeRate = Double(random.int(0...20)) / 1000
        transferRate = Double(random.int(0...10)) / 1000
        readIndexRate = Double(random.int(0...20)) / 100
        snapshotInterval = random.int(5...40)
    }
}

/// A deterministic cluster simulation: nodes, a lossy reordering network, crashes, partitions,
/// membership changes, leader transfers and client load, all driven by one seed. After every
/// step the ``SafetyChecker`` checks Raft's safety properties; at the end every fault heals and
/// the run must make progress within a bounded number of ticks.
final class Simulator {
    static let subTicksPerTick = 10

    private struct InFlight {
        var deliverAt: Int
        var sequence: Int
        var message: Message
    }

    let options: SimulationOptions
    private var random: SimRandom
    private var nodes: [NodeID: SimNode] = [:]
    private var network: [InFlight] = []
    private var sequence = 0
    private var now = 0
    private var checker = SafetyChecker()
    /// Node → side of the current partition; nil when the network is whole.
    private var partition: [NodeID: Int]?
    private var nextNodeID: NodeID = 1
    private var nextPayload: UInt64 = 1
    /// Read requests in flight: context → the commit index every answer must reach.
    private var pendingReads: [[UInt8]: LogIndex] = [:]
    private var dropRate: Double
    private var duplicateRate: Double
    private var crashBeforeSendRate: Double
    private(set) var stats = Stats()
    private let trace: Bool

    struct Stats {
        var messagesDelivered = 0
        var proposalsAccepted = 0
        var confChangesApplied = 0
        var snapshotsInstalled = 0
        var readsAnswered = 0
        var leaderChanges = 0
        var crashes = 0
    }

    init(options: SimulationOptions, trace: Bool = false) {
        self.options = options
        self.trace = trace
        random = SimRandom(seed: options.seed ^ 0x5EED)
        dropRate = options.dropRate
        duplicateRate = options.duplicateRate
        crashBeforeSendRate = options.crashBeforeSendRate
    }

    private func log(_ text: @autoclosure () -> String) {
        if trace { print("[\(now / Self.subTicksPerTick).\(now % Self.subTicksPerTick)] \(text())") }
    }

    func run() throws {
        let founders = (0..<options.initialVoters).map { _ in allocateNodeID() }
        let confState = ConfState(voters: Set(founders))
        for id in founders {
            let node = SimNode(id: id, storage: MemoryStorage(bootstrap: confState))
            nodes[id] = node
            try node.start(randomSeed: random.next(), electionTicks: options.electionTicks)
        }
        for _ in 0..<options.chaosTicks {
            try injectFaultsAndLoad()
            try runOneTick()
        }
        try healAndCheckLiveness()
    }

    private func allocateNodeID() -> NodeID {
        defer { nextNodeID += 1 }
        return nextNodeID
    }

    // MARK: - Time and delivery

    private func runOneTick() throws {
        for id in nodes.keys.sorted().shuffled(using: &random) {
            guard let node = nodes[id], node.isUp else { continue }
            node.withRaft { $0.tick() }
            try processReady(node)
        }
        for _ in 0..<Self.subTicksPerTick {
            now += 1
            try deliverDueMessages()
        }
    }

    private func deliverDueMessages() throws {
        var due: [InFlight] = []
        network.removeAll { flight in
            if flight.deliverAt <= now {
                due.append(flight)
                return true
            }
            return false
        }
        due.sort { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        // Messages due in the same sub-tick arrive in a random order.
        due.shuffle(using: &random)
        for flight in due {
            try deliver(flight.message)
        }
    }

    private func deliver(_ message: Message) throws {
        guard let node = nodes[message.to], node.isUp, !isCut(message.from, message.to),
            !node.state.removed.contains(message.from)
        else {
            reportLoss(of: message)
            if let sender = nodes[message.from] { try processReady(sender) }
            return
        }
        stats.messagesDelivered += 1
        do {
            try node.withRaft { try $0.step(message) }
        } catch let error as RaftError where error.code == .proposalDropped {
            // A forwarded proposal the leader refused: the client would retry.
        }
        try processReady(node)
        if message.type == .snapshot, let sender = nodes[message.from], sender.isUp {
            // The transport tells the sender the snapshot went through.
            sender.withRaft { $0.reportSnapshot(to: message.to, succeeded: true) }
            try processReady(sender)
        }
    }

    private func isCut(_ from: NodeID, _ to: NodeID) -> Bool {
        guard let partition else { return false }
        return partition[from] != partition[to]
    }

    /// What a real transport would notice about a message it failed to deliver. The sender's
    /// resulting Ready is left to the caller: the sender may be in the middle of handling one.
    private func reportLoss(of message: Message) {
        guard let sender = nodes[message.from], sender.isUp else { return }
        if message.type == .snapshot {
            sender.withRaft { $0.reportSnapshot(to: message.to, succeeded: false) }
        } else if random.chance(0.1) {
            sender.withRaft { $0.reportUnreachable(message.to) }
        }
    }

    private func send(_ message: Message) {
        if random.chance(dropRate) || isCut(message.from, message.to) {
            reportLoss(of: message)
            return
        }
        let copies = random.chance(duplicateRate) ? 2 : 1
        for _ in 0..<copies {
            sequence += 1
            network.append(InFlight(
                deliverAt: now + random.int(1...options.maxDelaySubTicks), sequence: sequence, message: message))
        }
    }

    // MARK: - Ready processing

    /// Handles every pending Ready of `node`, in the order the Ready documentation prescribes,
    /// checking safety as facts appear.
    private func processReady(_ node: SimNode) throws {
        var rounds = 0
        while let ready = node.withRaft({ $0.hasReady ? $0.ready() : nil }) ?? nil {
            rounds += 1
            precondition(rounds < 10_000, "node \(node.id) never runs out of Ready")
            try handle(ready, on: node)
            guard node.isUp else { return }
        }
    }

    private func handle(_ ready: Ready, on node: SimNode) throws {
        guard let status = node.withRaft({ $0.status }) else { return }
        let term = status.hardState.term
        if let soft = ready.softState, soft.role == .leader {
            stats.leaderChanges += 1
            log("node \(node.id) leads term \(term)")
            try checker.observeLeader(node.id, term: term)
            try checker.checkLeaderCompleteness(leader: node.id, term: term, firstIndex: node.storage.firstIndex(),
                lastIndex: node.storage.lastIndex(), termAt: node.term(at:))
        }

        // 1. Persist.
        if let snapshot = ready.snapshot {
            try node.storage.applySnapshot(snapshot)
            node.state = SimStateMachine(snapshot: snapshot)
            stats.snapshotsInstalled += 1
            log("node \(node.id) installs snapshot at \(snapshot.metadata.index)")
            try checker.observeApplied(index: node.state.appliedIndex, digest: node.state.digest, node: node.id)
        }
        if let first = ready.entries.first {
            let previousTerm = node.term(at: first.index - 1) ?? 0
            try checker.observeAppended(ready.entries, node: node.id, previousTerm: previousTerm)
            node.storage.append(ready.entries)
        }
        if let hardState = ready.hardState {
            node.storage.setHardState(hardState)
            if hardState.commit > node.checkedCommit {
                try checker.observeCommit(from: node.checkedCommit + 1, through: hardState.commit, node: node.id,
                    term: hardState.term, termAt: node.term(at:))
                node.checkedCommit = hardState.commit
            }
        }
        if random.chance(crashBeforeSendRate) {
            crash(node)
            return
        }

        // 2. Send.
        for message in ready.messages { send(message) }

        // 3. Apply.
        for entry in ready.committedEntries {
            guard entry.index == node.state.appliedIndex + 1 else {
                throw SafetyViolation(property: "applied exactly once, in order",
                    detail: "node \(node.id) got entry \(entry.index) after applying \(node.state.appliedIndex)")
            }
            node.state.apply(entry)
            if entry.kind == .confChange {
                let change = try ConfChange(decoding: entry.data)
                node.state.confState = node.withRaft { $0.applyConfChange(change) }!
                if change.kind == .removeNode { node.state.removed.insert(change.nodeID) }
                stats.confChangesApplied += 1
                log("node \(node.id) applies \(change.kind) \(change.nodeID) at \(entry.index)")
            }
            try checker.observeApplied(index: entry.index, digest: node.state.digest, node: node.id)
        }

        // 4. Reads.
        for read in ready.readStates {
            guard let required = pendingReads.removeValue(forKey: read.context) else { continue }
            guard read.index >= required else {
                throw SafetyViolation(property: "linearizable read index",
                    detail: "node \(node.id) got read index \(read.index), but \(required) was committed before the read began")
            }
            stats.readsAnswered += 1
        }

        node.withRaft { $0.advance(ready) }
        try maybeSnapshot(node)
    }

    private func maybeSnapshot(_ node: SimNode) throws {
        let applied = node.state.appliedIndex
        let snapshotIndex = node.storage.snapshot().metadata.index
        guard applied >= snapshotIndex + LogIndex(options.snapshotInterval) else { return }
        try node.storage.createSnapshot(at: applied, confState: node.state.confState, data: node.state.encoded)
        // Keep a few entries so slightly lagging followers still catch up from the log.
        let keep = LogIndex(random.int(0...5))
        if applied > keep && applied - keep >= node.storage.firstIndex() {
            try node.storage.compact(upTo: applied - keep)
        }
    }

    // MARK: - Faults and load

    private var liveNodes: [SimNode] { nodes.keys.sorted().compactMap { nodes[$0] }.filter(\.isUp) }

    private var currentLeader: SimNode? {
        liveNodes
            .compactMap { node -> (SimNode, Term)? in
                guard let status = node.withRaft({ $0.status }), status.softState.role == .leader else { return nil }
                return (node, status.hardState.term)
            }
            .max { $0.1 < $1.1 }?.0
    }

    private func crash(_ node: SimNode) {
        stats.crashes += 1
        log("node \(node.id) crashes")
        node.crash()
    }

    private func injectFaultsAndLoad() throws {
        if random.chance(options.crashRate), let victim = random.element(of: liveNodes) {
            crash(victim)
        }
        let down = nodes.keys.sorted().compactMap { nodes[$0] }.filter { !$0.isUp }
        if random.chance(options.restartRate), let revived = random.element(of: down) {
            log("node \(revived.id) restarts")
            try revived.start(randomSeed: random.next(), electionTicks: options.electionTicks)
            try processReady(revived)
        }
        if partition == nil, random.chance(options.partitionRate) {
            var sides: [NodeID: Int] = [:]
            for id in nodes.keys.sorted() { sides[id] = random.chance(0.5) ? 1 : 0 }
            partition = sides
            log("partition \(sides.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" })")
        } else if partition != nil, random.chance(options.partitionHealRate) {
            partition = nil
            log("partition heals")
        }
        if random.chance(options.proposalRate), let target = random.element(of: liveNodes) {
            try propose(on: target)
        }
        if random.chance(options.readIndexRate), let target = random.element(of: liveNodes) {
            let context = Array("read-\(now)".utf8)
            pendingReads[context] = checker.maxCommitted
            target.withRaft { $0.readIndex(context: context) }
            try processReady(target)
        }
        if random.chance(options.transferRate), let leader = currentLeader,
            let voters = leader.withRaft({ $0.status.confState.voters.sorted() }),
            let transferee = random.element(of: voters)
        {
            log("transfer leadership from \(leader.id) to \(transferee)")
            leader.withRaft { $0.transferLeadership(to: transferee) }
            try processReady(leader)
        }
        if random.chance(options.confChangeRate), let leader = currentLeader {
            try proposeMembershipChange(on: leader)
        }
    }

    @discardableResult
    private func propose(on node: SimNode, payload: [UInt8]? = nil) throws -> Bool {
        let data = payload ?? nextPayloadBytes()
        do {
            try node.withRaft { try $0.propose(data) }
            stats.proposalsAccepted += 1
        } catch let error as RaftError where error.code == .proposalDropped {
            return false
        }
        try processReady(node)
        return true
    }

    private func nextPayloadBytes() -> [UInt8] {
        defer { nextPayload += 1 }
        return withUnsafeBytes(of: nextPayload.littleEndian) { Array($0) }
    }

    /// An operator's change: add a voter or learner, promote a learner, or remove a member
    /// (possibly the leader), keeping between three and five voters.
    private func proposeMembershipChange(on leader: SimNode) throws {
        guard let conf = leader.withRaft({ $0.status.confState }) else { return }
        var choices: [ConfChange] = []
        if conf.voters.count < 5 {
            choices.append(ConfChange(kind: .addNode, nodeID: nextNodeID))
        }
        if conf.learners.count < 2 {
            choices.append(ConfChange(kind: .addLearner, nodeID: nextNodeID))
        }
        if conf.voters.count < 5, let learner = conf.learners.sorted().first {
            choices.append(ConfChange(kind: .addNode, nodeID: learner))
        }
        if conf.voters.count > 3, let voter = random.element(of: conf.voters.sorted()) {
            choices.append(ConfChange(kind: .removeNode, nodeID: voter))
        }
        if let learner = random.element(of: conf.learners.sorted()) {
            choices.append(ConfChange(kind: .removeNode, nodeID: learner))
        }
        guard let change = random.element(of: choices) else { return }
        do {
            try leader.withRaft { try $0.proposeConfChange(change) }
        } catch let error as RaftError where error.code == .proposalDropped {
            return
        }
        log("node \(leader.id) proposes \(change.kind) \(change.nodeID)")
        if change.nodeID == nextNodeID {
            // The new member's process starts empty and waits for the leader.
            let id = allocateNodeID()
            let node = SimNode(id: id, storage: MemoryStorage())
            nodes[id] = node
            try node.start(randomSeed: random.next(), electionTicks: options.electionTicks)
        }
        try processReady(leader)
    }

    // MARK: - Liveness

    private func describe(_ node: SimNode) -> String {
        guard let status = node.withRaft({ $0.status }) else { return "  node \(node.id): down" }
        return "  node \(node.id): \(status.softState.role) term \(status.hardState.term) leader \(status.softState.leader) "
            + "vote \(status.hardState.vote) commit \(status.hardState.commit) applied \(status.applied) last \(status.lastIndex) "
            + "voters \(status.confState.voters.sorted()) learners \(status.confState.learners.sorted()) "
            + "removed \(node.state.removed.sorted())"
            + status.progress.sorted { $0.key < $1.key }.map { id, progress in
                "\n    progress of \(id): \(progress.state) match \(progress.match) next \(progress.next) "
                    + "paused \(progress.isPaused) pending snapshot \(progress.pendingSnapshot) active \(progress.recentActive)"
            }.joined()
    }

    /// Heals every fault, then requires a leader to commit new proposals on every member
    /// within ``SimulationOptions/livenessTicks``.
    private func healAndCheckLiveness() throws {
        partition = nil
        dropRate = 0
        duplicateRate = 0
        crashBeforeSendRate = 0
        for id in nodes.keys.sorted() {
            guard let node = nodes[id], !node.isUp else { continue }
            try node.start(randomSeed: random.next(), electionTicks: options.electionTicks)
            try processReady(node)
        }
        log("all faults healed")
        let payloads = (0..<5).map { _ in nextPayloadBytes() }
        for tick in 0..<options.livenessTicks {
            try runOneTick()
            guard let leader = currentLeader else { continue }
            let members = leader.state.confState.voters.union(leader.state.confState.learners)
            let done = members.allSatisfy { id in
                guard let member = nodes[id] else { return false }
                return payloads.allSatisfy(member.state.appliedPayloads.contains)
            }
            if done { return }
            // Proposals can be lost with a deposed leader's log: propose again now and then.
            if tick % (options.electionTicks * 2) == 0 {
                for payload in payloads where !leader.state.appliedPayloads.contains(payload) {
                    try propose(on: leader, payload: payload)
                }
            }
        }
        let leaderText = currentLeader.map { "node \($0.id)" } ?? "none"
        throw SafetyViolation(property: "liveness",
            detail: "\(options.livenessTicks) ticks after every fault healed, proposals are not applied on all members (leader: \(leaderText))\n"
                + nodes.keys.sorted().map { describe(nodes[$0]!) }.joined(separator: "\n"))
    }
}
