@testable import Raft

/// One simulated server: its "disk" (a ``MemoryStorage`` that survives crashes), the raft node
/// running on it while it is up, and the state machine it applies to.
final class SimNode {
    let id: NodeID
    let storage: MemoryStorage
    private(set) var raft: RaftNode?
    var state = SimStateMachine()
    /// The highest commit index already reported to the safety checker.
    var checkedCommit: LogIndex = 0

    init(id: NodeID, storage: MemoryStorage) {
        self.id = id
        self.storage = storage
    }

    var isUp: Bool { raft != nil }

    /// Starts (or restarts) the node from what its disk holds, as a real process would.
    func start(randomSeed: UInt64, electionTicks: Int) throws {
        var config = RaftConfig(id: id, randomSeed: randomSeed)
        config.electionTicks = electionTicks
        config.heartbeatTicks = 1
        config.maxInflightMessages = 8
        config.maxSizePerMessageBytes = 256
        state = SimStateMachine(snapshot: storage.snapshot())
        // The log may keep entries before the snapshot; the state machine already has them.
        config.applied = state.appliedIndex
        raft = try RaftNode(config: config, storage: storage)
    }

    /// Loses everything not on disk.
    func crash() {
        raft = nil
    }

    /// Runs `body` on the live raft node; a no-op when the node is down.
    @discardableResult
    func withRaft<T>(_ body: (inout RaftNode) throws -> T) rethrows -> T? {
        guard raft != nil else { return nil }
        return try body(&raft!)
    }

    func term(at index: LogIndex) -> Term? {
        try? storage.term(at: index)
    }
}
