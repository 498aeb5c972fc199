/// How a leader confirms it may serve a linearizable read.
public enum ReadOnlyOption: Sendable, Hashable {
    /// Confirm leadership with a heartbeat round to a quorum (ReadIndex, §6.4).
    case safe
    /// Trust the leader lease kept by CheckQuorum: no round trip, but relies on bounded clock drift.
    case leaseBased
}

/// A read-index request waiting for a quorum to acknowledge the heartbeat that carries it.
struct ReadIndexStatus {
    var request: Message
    var index: LogIndex
    var acks: [NodeID: Bool] = [:]
}

/// Pending ReadIndex requests on the leader, in arrival order. A heartbeat round acknowledged by
/// a quorum confirms the request it carried and every earlier one.
struct ReadOnly {
    let option: ReadOnlyOption
    private var pending: [[UInt8]: ReadIndexStatus] = [:]
    private var queue: [[UInt8]] = []

    init(option: ReadOnlyOption) {
        self.option = option
    }

    var lastPendingContext: [UInt8]? { queue.last }

    /// Queues a request; a second request with the same context is ignored.
    mutating func add(request: Message, index: LogIndex) {
        guard pending[request.context] == nil else { return }
        pending[request.context] = ReadIndexStatus(request: request, index: index)
        queue.append(request.context)
    }

    /// Records that `id` acknowledged the heartbeat carrying `context`; returns the acks so far.
    mutating func receiveAck(from id: NodeID, context: [UInt8]) -> [NodeID: Bool]? {
        guard pending[context] != nil else { return nil }
        pending[context]!.acks[id] = true
        return pending[context]!.acks
    }

    /// Removes and returns the request with `context` and every request queued before it.
    mutating func advance(through context: [UInt8]) -> [ReadIndexStatus] {
        guard let position = queue.firstIndex(of: context) else { return [] }
        let released = queue[...position].map { pending.removeValue(forKey: $0)! }
        queue.removeFirst(position + 1)
        return released
    }
}
