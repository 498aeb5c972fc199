import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Server
import Synchronization

/// etcd's `benchmark watch-latency`: `streams` watch streams of `watchersPerStream` watchers
/// each on one key, then `puts` puts to that key from one client (at `putRate` per second);
/// measures, for every watcher and every put, the time from the put's send to the event's
/// arrival. The key must be the run's alone: each watcher's n-th event answers the n-th put,
/// which the run checks against the puts' revisions.
public struct WatchLatency: Sendable {
    public var key: String
    public var valueSize: Int
    public var streams: Int
    public var watchersPerStream: Int
    public var puts: Int
    public var putRate: Int?
    public var prevKV: Bool
    /// How long watchers may take to be created, and to receive the last event after the last put.
    public var settleTimeout: Duration

    public init(key: String, valueSize: Int, streams: Int, watchersPerStream: Int, puts: Int, putRate: Int?,
        prevKV: Bool, settleTimeout: Duration = .seconds(30))
    {
        self.key = key
        self.valueSize = valueSize
        self.streams = streams
        self.watchersPerStream = watchersPerStream
        self.puts = puts
        self.putRate = putRate
        self.prevKV = prevKV
        self.settleTimeout = settleTimeout
    }

    /// The puts as the writer saw them, and the events as the watchers saw them: one latency
    /// per delivered event, failures for events missing, late or out of order, and the time
    /// from the first put's send to the last event's arrival.
    public struct Result: Sendable {
        public var puts: LoadResult
        public var events: LoadResult
    }

    /// Runs against `endpoints`: the watch streams share `connections` HTTP/2 connections,
    /// spread over the endpoints; the puts use one more of their own, to the first endpoint.
    public func run(endpoints: [String], access: ClientAccess, connections: Int) async throws -> Result {
        let watchPool = try ConnectionPool(endpoints: endpoints, access: access, connections: max(1, connections),
            callsPerConnection: .max)
        let putPool = try ConnectionPool(endpoints: endpoints, access: access, connections: 1,
            callsPerConnection: ConnectionPool.defaultCallsPerConnection)
        let (stop, stopAll) = AsyncStream<Never>.makeStream()
        var watches: [Task<Void, any Error>] = []
        func shutDown() async {
            stopAll.finish()
            for watch in watches { watch.cancel() }
            await watchPool.close()
            await putPool.close()
        }
        do {
            let metadata = try await putPool.withClient(for: 0) { try await access.login($0) }
            let deliveries = Deliveries(puts: puts)
            for stream in 0..<streams {
                watches.append(Task { try await watch(stream: stream, pool: watchPool, metadata: metadata,
                    deliveries: deliveries, until: stop) })
            }
            try await waitUntil("\(streams * watchersPerStream) watchers created") {
                deliveries.createdCount == streams * watchersPerStream
            }
            let value = Bench.value(size: valueSize)
            var request = Etcdserverpb_PutRequest()
            request.key = Data(key.utf8)
            request.value = value
            let putResult = await LoadRunner(clients: 1, total: puts, rate: putRate).run { [request] _, number in
                deliveries.sending(number)
                let response = try await putPool.withClient(for: 0) {
                    try await Etcdserverpb_KV.Client(wrapping: $0).put(request, metadata: metadata)
                }
                deliveries.sent(number, revision: response.header.revision)
            }
            let expected = putResult.succeeded * streams * watchersPerStream
            try? await waitUntil("every event delivered") { deliveries.deliveredCount >= expected }
            await shutDown()
            return Result(puts: putResult, events: deliveries.result(expectedWatchers: streams * watchersPerStream))
        } catch {
            await shutDown()
            throw error
        }
    }

    /// One watch stream: creates its watchers, then records every event until `stop` ends.
    private func watch(stream: Int, pool: ConnectionPool, metadata: Metadata, deliveries: Deliveries,
        until stop: AsyncStream<Never>) async throws
    {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(key.utf8)
        create.prevKv = prevKV
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        try await pool.withClient(for: stream) { connection in
            try await Etcdserverpb_Watch.Client(wrapping: connection).watch(
                metadata: metadata,
                requestProducer: { [request, watchersPerStream] writer in
                    for _ in 0..<watchersPerStream { try await writer.write(request) }
                    for await _ in stop {}
                },
                onResponse: { response in
                    for try await message in response.messages {
                        if message.canceled {
                            throw RPCError(code: .cancelled, message: "watcher canceled: \(message.cancelReason)")
                        }
                        if message.created { deliveries.created() }
                        let arrived = ContinuousClock.now
                        for event in message.events {
                            deliveries.deliver(watcher: Deliveries.Watcher(stream: stream, id: message.watchID),
                                revision: event.kv.modRevision, at: arrived)
                        }
                    }
                })
        }
    }

    /// Polls `done` until it holds; fails after the settle timeout (a failed stream never
    /// gets there).
    private func waitUntil(_ what: String, _ done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + settleTimeout
        while !done() {
            guard ContinuousClock.now < deadline else {
                throw RPCError(code: .deadlineExceeded, message: "not \(what) within \(settleTimeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// What the watchers received, shared by the streams and the writer.
private final class Deliveries: Sendable {
    struct Watcher: Hashable {
        var stream: Int
        var id: Int64
    }

    private struct State {
        var sentAt: [ContinuousClock.Instant?]
        var revisions: [Int64?]
        var received: [Watcher: [(revision: Int64, latency: Duration)]] = [:]
        var created = 0
        var delivered = 0
        var lastArrived: ContinuousClock.Instant?
    }

    private let state: Mutex<State>

    init(puts: Int) {
        state = Mutex(State(sentAt: Array(repeating: nil, count: puts), revisions: Array(repeating: nil, count: puts)))
    }

    var createdCount: Int { state.withLock { $0.created } }
    var deliveredCount: Int { state.withLock { $0.delivered } }

    func created() { state.withLock { $0.created += 1 } }

    func sending(_ number: Int) {
        let now = ContinuousClock.now
        state.withLock { $0.sentAt[number] = now }
    }

    func sent(_ number: Int, revision: Int64) { state.withLock { $0.revisions[number] = revision } }

    /// A watcher's n-th event answers the n-th put, which was sent before its event could exist.
    func deliver(watcher: Watcher, revision: Int64, at arrived: ContinuousClock.Instant) {
        state.withLock { state in
            let number = state.received[watcher, default: []].count
            let sent = number < state.sentAt.count ? state.sentAt[number] : nil
            state.received[watcher, default: []].append((revision, sent.map { arrived - $0 } ?? .zero))
            state.delivered += 1
            state.lastArrived = arrived
        }
    }

    /// The events as a load result: a latency for each event that matches its put's revision,
    /// an error for each watcher whose events are missing or do not match the puts.
    func result(expectedWatchers: Int) -> LoadResult {
        state.withLock { state in
            var result = LoadResult()
            let revisions = state.revisions.compactMap { $0 }
            if state.received.count < expectedWatchers {
                result.errors["watcher received no event", default: 0] += expectedWatchers - state.received.count
            }
            for (_, events) in state.received {
                for (number, event) in events.enumerated() {
                    if number < revisions.count, event.revision == revisions[number] {
                        result.latencies.record(event.latency)
                    } else {
                        result.errors["event out of order or not from the run's puts", default: 0] += 1
                    }
                }
                if events.count < revisions.count {
                    result.errors["event missing", default: 0] += revisions.count - events.count
                }
            }
            // One writer sends in order: put 0 went first.
            if let first = state.sentAt.first ?? nil, let last = state.lastArrived { result.elapsed = last - first }
            return result
        }
    }
}
