import Raft
import Synchronization

/// The messages waiting for one peer's connection: bounded, so a slow or dead peer costs a
/// fixed amount of memory and never blocks raft — a message that finds the queue full is
/// refused and raft is told the peer is unreachable (it then probes instead of streaming).
final class PeerQueue: Sendable {
    /// etcd buffers 4096 messages per peer stream.
    static let capacity = 4096

    private struct State {
        var messages: [Message] = []
        var waiter: CheckedContinuation<[Message], Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Queues `message`; false when the queue is full or closed.
    func put(_ message: Message) -> Bool {
        let (accepted, waiter): (Bool, CheckedContinuation<[Message], Never>?) = state.withLock { state in
            guard !state.closed, state.messages.count < Self.capacity else { return (false, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            state.messages.append(message)
            return (true, nil)
        }
        waiter?.resume(returning: [message])
        return accepted
    }

    /// Waits for messages and takes up to `limit` of them; empty once closed or cancelled.
    func take(limit: Int) async -> [Message] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Message], Never>) in
                let ready: [Message]? = state.withLock { state in
                    if state.closed || Task.isCancelled { return [] }
                    guard state.messages.isEmpty else {
                        let taken = Array(state.messages.prefix(limit))
                        state.messages.removeFirst(taken.count)
                        return taken
                    }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: [])
        }
    }

    /// Drops what is queued (the connection failed: raft resends what still matters).
    func drop() -> Int {
        state.withLock { state in
            defer { state.messages = [] }
            return state.messages.count
        }
    }

    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            state.messages = []
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: [])
    }
}
