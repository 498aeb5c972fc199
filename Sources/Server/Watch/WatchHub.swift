import Storage
import Synchronization

/// Learns from the raft host that the store advanced and wakes every watch stream. It holds
/// no events: a woken stream reads the history it is missing from the store, so a slow
/// stream costs no memory here, only distance behind the head.
final class WatchHub: Sendable {
    private struct State {
        /// The store revision after the last applied write; never ahead of what readers see.
        var revision: Int64
        var nextSubscriberID = 0
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
    }

    private let store: MVCCStore
    private let state: Mutex<State>

    init(store: MVCCStore) throws {
        self.store = store
        state = Mutex(State(revision: try store.status().revision))
    }

    /// A hub following `host`'s applied entries.
    static func attached(to host: RaftHost, store: MVCCStore) async throws -> WatchHub {
        let hub = try WatchHub(store: store)
        await host.subscribe { [weak hub] event in hub?.onHostEvent(event) }
        return hub
    }

    /// The store revision watchers may read up to.
    var revision: Int64 { state.withLock { $0.revision } }

    /// Registers `wakeup`, yielded after every revision change until ``unsubscribe(_:)``.
    /// Give it a `.bufferingNewest(1)` stream: wakeups coalesce, the reader rereads the revision.
    func subscribe(_ wakeup: AsyncStream<Void>.Continuation) -> Int {
        state.withLock { state in
            let id = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.subscribers[id] = wakeup
            return id
        }
    }

    func unsubscribe(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// Records that the store reached `revision` (a no-op unless it moves forward) and wakes
    /// the subscribers.
    func advance(to revision: Int64) {
        let woken: [AsyncStream<Void>.Continuation] = state.withLock { state in
            guard revision > state.revision else { return [] }
            state.revision = revision
            return Array(state.subscribers.values)
        }
        for wakeup in woken { wakeup.yield() }
    }

    /// Called on the raft host's executor after each applied entry: must stay quick.
    func onHostEvent(_ event: RaftHost.HostEvent) {
        if case .storeReplaced = event, let revision = try? store.status().revision {
            advance(to: revision)
        }
        guard case .applied(_, let result) = event else { return }
        switch Self.revisionChange(after: result) {
        case .unchanged:
            return
        case .to(let revision):
            advance(to: revision)
        case .unknown:
            if let revision = try? store.status().revision { advance(to: revision) }
        }
    }

    enum RevisionChange: Equatable {
        case unchanged
        case to(Int64)
        /// The result does not say (a revoke that deleted keys, a failed apply): ask the store.
        case unknown
    }

    /// What an applied result says about the store revision, without reading the store.
    static func revisionChange(after result: AppliedResult?) -> RevisionChange {
        switch result {
        case .put(let put): .to(put.revision)
        case .deleteRange(let delete): .to(delete.revision)
        case .txn(let txn): .to(txn.revision)
        case .compaction, .leaseGrant, .leaseCheckpoint, .alarm, .members, .authChanged, .authenticated, .alreadyApplied:
            .unchanged
        case .leaseRevoke(let deletedKeys): deletedKeys == 0 ? .unchanged : .unknown
        case nil: .unknown
        }
    }
}
