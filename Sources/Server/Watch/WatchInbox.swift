import API
import Synchronization

/// What reaches a watch stream's serving loop from other tasks: the client's requests (at
/// most ``capacity`` waiting; the reader waits for room), progress ticks and a read failure.
/// Each arrival yields `wakeup`, the same coalescing signal the hub yields on new revisions.
final class WatchInbox: Sendable {
    static let capacity = 64

    struct Arrivals {
        var requests: [Etcdserverpb_WatchRequest] = []
        var progressDue = false
        var failure: (any Error)?
    }

    private struct State {
        var arrivals = Arrivals()
        var closed = false
        var roomWaiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let wakeup: AsyncStream<Void>.Continuation

    init(wakeup: AsyncStream<Void>.Continuation) {
        self.wakeup = wakeup
    }

    /// Queues a client request, first waiting while ``capacity`` requests wait already.
    func push(_ request: Etcdserverpb_WatchRequest) async {
        while true {
            let queued = state.withLock { state in
                guard state.closed || state.arrivals.requests.count < Self.capacity else { return false }
                if !state.closed { state.arrivals.requests.append(request) }
                return true
            }
            if queued {
                wakeup.yield()
                return
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let roomNow = state.withLock { state in
                    guard !state.closed && state.arrivals.requests.count >= Self.capacity else { return true }
                    state.roomWaiter = continuation
                    return false
                }
                if roomNow { continuation.resume() }
            }
        }
    }

    func progressTick() {
        state.withLock { $0.arrivals.progressDue = true }
        wakeup.yield()
    }

    /// The client's request stream failed: the serving loop ends with `error`.
    func fail(_ error: any Error) {
        state.withLock { $0.arrivals.failure = error }
        wakeup.yield()
    }

    /// Everything that arrived since the last call; makes room for the reader.
    func take() -> Arrivals {
        let (arrivals, waiter) = state.withLock { state in
            defer {
                state.arrivals = Arrivals()
                state.roomWaiter = nil
            }
            return (state.arrivals, state.roomWaiter)
        }
        waiter?.resume()
        return arrivals
    }

    /// Stops accepting requests and releases a waiting reader.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.roomWaiter = nil }
            return state.roomWaiter
        }
        waiter?.resume()
    }
}
