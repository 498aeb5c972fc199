import XCTest
@testable import Raft

/// A deterministic in-process network of raft nodes for scripted tests, in the style of
/// etcd-io/raft's `network`: nothing happens unless a test ticks, steps or delivers, so every
/// run replays the same interaction. Each node processes its `Ready` in the documented order
/// (persist, send, apply, advance), and the network records every message it was handed so a
/// test can assert on what was sent even when a filter dropped it.
final class TestNetwork {
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    private(set) var nodes: [NodeID: RaftNode] = [:]
    private(set) var storages: [NodeID: MemoryStorage] = [:]
    private var configs: [NodeID: RaftConfig] = [:]
    /// The entries each node's state machine applied, in order.
    private(set) var applied: [NodeID: [Entry]] = [:]
    /// The state machine's position: the last applied entry or installed snapshot.
    private(set) var appliedIndex: [NodeID: LogIndex] = [:]
    private(set) var installedSnapshots: [NodeID: [Snapshot]] = [:]
    private(set) var readStates: [NodeID: [ReadState]] = [:]
    /// The membership each node's application last learned from raft.
    private(set) var confStates: [NodeID: ConfState] = [:]
    /// Every message a node produced, in order, including those the filters dropped.
    private(set) var sent: [Message] = []
    /// Errors nodes raised while stepping delivered messages (a forwarded proposal the leader
    /// refused, for instance); a network has no one to return them to.
    private(set) var stepErrors: [RaftError] = []
    /// Returns true for a message the network should lose.
    var drop: (Message) -> Bool = { _ in false }
    private var cutLinks: Set<Link> = []
    private var inFlight: [Message] = []

    /// Founding members `voters` and `learners`, each bootstrapped with that membership. A node
    /// listed in `logs` also holds those entries (which must start at index 2) and a term of
    /// at least their last term, as if it had lived through earlier elections.
    init(
        voters: [NodeID], learners: [NodeID] = [], logs: [NodeID: [Entry]] = [:], term: Term = 1,
        configure: (inout RaftConfig) -> Void = { _ in }
    ) {
        let confState = ConfState(voters: Set(voters), learners: Set(learners))
        for id in voters + learners {
            let storage = MemoryStorage(bootstrap: confState)
            let entries = logs[id] ?? []
            storage.append(entries)
            storage.setHardState(HardState(term: max(term, entries.last?.term ?? 1), vote: .none, commit: 1))
            start(id, storage: storage, configure: configure)
            confStates[id] = confState
        }
    }

    /// Starts a node that is not yet a member: its storage is empty and it learns the log and
    /// the membership from the leader once a conf change adds it.
    func addNode(_ id: NodeID, configure: (inout RaftConfig) -> Void = { _ in }) {
        start(id, storage: MemoryStorage(), configure: configure)
        confStates[id] = ConfState()
    }

    private func start(_ id: NodeID, storage: MemoryStorage, configure: (inout RaftConfig) -> Void) {
        var config = RaftConfig(id: id, randomSeed: 7)
        configure(&config)
        configs[id] = config
        storages[id] = storage
        nodes[id] = try! RaftNode(config: config, storage: storage)
        appliedIndex[id] = storage.snapshot().metadata.index
        applied[id] = []
        readStates[id] = []
        installedSnapshots[id] = []
    }

    /// Simulates a crash and restart: the node loses everything but its storage, and its state
    /// machine resumes from what it had applied.
    func restart(_ id: NodeID) {
        var config = configs[id]!
        config.applied = appliedIndex[id]!
        nodes[id] = try! RaftNode(config: config, storage: storages[id]!)
    }

    // MARK: - Observing

    func status(_ id: NodeID) -> RaftStatus { nodes[id]!.status }
    func role(_ id: NodeID) -> RaftRole { status(id).softState.role }
    func term(_ id: NodeID) -> Term { status(id).hardState.term }
    func vote(_ id: NodeID) -> NodeID { status(id).hardState.vote }
    func leader(of id: NodeID) -> NodeID { status(id).softState.leader }
    func committed(_ id: NodeID) -> LogIndex { status(id).hardState.commit }
    func lastIndex(_ id: NodeID) -> LogIndex { status(id).lastIndex }
    func progress(_ id: NodeID, of member: NodeID) -> MemberProgress? { status(id).progress[member] }

    /// The persisted log of `id` after its snapshot.
    func storedEntries(_ id: NodeID) -> [Entry] {
        let storage = storages[id]!
        return try! storage.entries(from: storage.firstIndex(), to: storage.lastIndex() + 1, maxSizeBytes: .max)
    }

    /// The persisted term of the entry at `index` on `id`, nil when it has none there.
    func storedTerm(_ id: NodeID, at index: LogIndex) -> Term? {
        try? storages[id]!.term(at: index)
    }

    /// The data of the normal entries `id` applied, skipping the leaders' empty entries.
    func appliedData(_ id: NodeID) -> [[UInt8]] {
        applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty }.map(\.data)
    }

    func messages(where predicate: (Message) -> Bool) -> [Message] { sent.filter(predicate) }

    func clearSent() { sent = [] }

    // MARK: - Driving

    func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times { nodes[id]!.tick() }
    }

    /// Ticks every node once per round and lets the network settle after each round.
    func tickAll(times: Int, except skipped: Set<NodeID> = []) {
        for _ in 0..<times {
            for id in nodes.keys.sorted() where !skipped.contains(id) { nodes[id]!.tick() }
            deliverAll()
        }
    }

    func campaign(_ id: NodeID) {
        try! nodes[id]!.campaign()
    }

    /// Campaigns `id` and settles the network; the caller asserts the outcome.
    func elect(_ id: NodeID, file: StaticString = #filePath, line: UInt = #line) {
        campaign(id)
        deliverAll()
        XCTAssertEqual(role(id), .leader, "node \(id) should have won the election", file: file, line: line)
    }

    func propose(_ id: NodeID, _ data: String) throws(RaftError) {
        try nodes[id]!.propose(Array(data.utf8))
    }

    func proposeConfChange(_ id: NodeID, _ change: ConfChange) throws(RaftError) {
        try nodes[id]!.proposeConfChange(change)
    }

    func readIndex(_ id: NodeID, _ context: String) {
        nodes[id]!.readIndex(context: Array(context.utf8))
    }

    func transferLeadership(on id: NodeID, to transferee: NodeID) {
        nodes[id]!.transferLeadership(to: transferee)
    }

    /// Runs `body` on node `id` in place, for inputs the network has no helper for.
    func withNode(_ id: NodeID, _ body: (inout RaftNode) throws -> Void) rethrows {
        try body(&nodes[id]!)
    }

    /// Hands `message` straight to its destination, bypassing filters.
    func inject(_ message: Message) {
        do {
            try nodes[message.to]!.step(message)
        } catch {
            stepErrors.append(error)
        }
    }

    // MARK: - Faults

    func isolate(_ id: NodeID) {
        for other in nodes.keys where other != id {
            cutLinks.insert(Link(from: id, to: other))
            cutLinks.insert(Link(from: other, to: id))
        }
    }

    /// Cuts the link from `from` to `to` only; the reverse direction still works.
    func cut(from: NodeID, to: NodeID) {
        cutLinks.insert(Link(from: from, to: to))
    }

    func heal() {
        cutLinks = []
        drop = { _ in false }
    }

    // MARK: - Ready processing

    /// Processes one Ready of `id` in the documented order and returns its messages unsent.
    @discardableResult
    func processReady(_ id: NodeID) -> [Message] {
        var node = nodes[id]!
        guard node.hasReady else { return [] }
        let ready = node.ready()
        let storage = storages[id]!

        if let snapshot = ready.snapshot {
            try! storage.applySnapshot(snapshot)
        }
        storage.append(ready.entries)
        if let hardState = ready.hardState {
            storage.setHardState(hardState)
        }

        if let snapshot = ready.snapshot {
            installedSnapshots[id]!.append(snapshot)
            appliedIndex[id] = snapshot.metadata.index
            confStates[id] = snapshot.metadata.confState
        }
        for entry in ready.committedEntries {
            XCTAssertEqual(entry.index, appliedIndex[id]! + 1,
                "node \(id) must apply entries exactly once and in order")
            XCTAssertEqual(storedTerm(id, at: entry.index), entry.term,
                "node \(id) applied entry \(entry.index) that differs from its persisted log")
            applied[id]!.append(entry)
            appliedIndex[id] = entry.index
            if entry.kind == .confChange {
                confStates[id] = node.applyConfChange(try! ConfChange(decoding: entry.data))
            }
        }
        readStates[id]!.append(contentsOf: ready.readStates)
        node.advance(ready)
        nodes[id] = node
        return ready.messages
    }

    /// Hands messages to the network, which loses those the filters select.
    func send(_ messages: [Message]) {
        for message in messages {
            sent.append(message)
            if cutLinks.contains(Link(from: message.from, to: message.to)) || drop(message) { continue }
            inFlight.append(message)
        }
    }

    /// Processes every node's Ready and delivers every message until the network is quiet.
    func deliverAll(file: StaticString = #filePath, line: UInt = #line) {
        // Without ticks, traffic dies out within a few round trips; a long run means a loop.
        for _ in 0..<10_000 {
            for id in nodes.keys.sorted() {
                send(processReady(id))
            }
            if inFlight.isEmpty { return }
            let batch = inFlight
            inFlight = []
            for message in batch where nodes[message.to] != nil {
                inject(message)
            }
        }
        XCTFail("the network did not settle", file: file, line: line)
    }
}
