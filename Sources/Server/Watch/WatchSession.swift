import API
import GRPCCore
import Storage

/// Serves one Watch stream from a single task, so responses leave in the order they are
/// made: a watcher's created response before its events, its events in revision order.
/// Each wakeup handles the requests that arrived, then sends every lagging watcher one batch
/// of history from the store and wakes itself again while any still lags — watchers take
/// turns, and requests get answered between batches. A slow client slows only this loop
/// (writes wait for HTTP/2 flow control); nothing buffers behind it but the store's history.
struct WatchSession {
    /// etcd's watch id for a progress response to a WatchProgressRequest, which speaks for
    /// every watcher of the stream.
    static let progressWatchID: Int64 = -1
    static let rangeEmptyReason = "mvcc: watcher range is empty"
    static let duplicateIDReason = "mvcc: duplicate watch ID provided on the WatchStream"

    let server: EtcdServer
    let hub: WatchHub
    let history: WatchHistoryReader
    let response: RPCWriter<Etcdserverpb_WatchResponse>
    private var watchers: [Int64: Watcher] = [:]
    private var nextWatchID: Int64 = 0
    /// A progress request waits until every watcher has caught up, so its revision never
    /// runs ahead of events still to come (etcd 3.5's rule, which Kubernetes relies on).
    private var progressRequested = false

    init(server: EtcdServer, hub: WatchHub, history: WatchHistoryReader, response: RPCWriter<Etcdserverpb_WatchResponse>) {
        self.server = server
        self.hub = hub
        self.history = history
        self.response = response
    }

    /// Serves until the task is cancelled, the client's requests fail or a write fails.
    mutating func run(wakeups: AsyncStream<Void>, wakeup: AsyncStream<Void>.Continuation, inbox: WatchInbox) async throws {
        for await _ in wakeups {
            let arrivals = inbox.take()
            if let failure = arrivals.failure { throw failure }
            for request in arrivals.requests {
                try await handle(request)
            }
            if arrivals.progressDue {
                try await notifyProgress()
            }
            let lagging = try await sendOneBatchEach()
            if progressRequested && !lagging {
                try await answerProgressRequest()
            }
            if lagging {
                wakeup.yield()
            }
        }
    }

    // MARK: - Requests

    private mutating func handle(_ request: Etcdserverpb_WatchRequest) async throws {
        switch request.requestUnion {
        case .createRequest(let create): try await self.create(create)
        case .cancelRequest(let cancel): try await self.cancel(cancel.watchID)
        case .progressRequest: progressRequested = true
        case nil: break
        }
    }

    private mutating func create(_ request: Etcdserverpb_WatchCreateRequest) async throws {
        let revision = hub.revision
        var reply = Etcdserverpb_WatchResponse()
        reply.header = await server.header(revision: revision)
        reply.created = true
        do {
            try server.auth.requireRead(key: Array(request.key), rangeEnd: Array(request.rangeEnd))
        } catch {
            // etcd's reason is the whole gRPC error text, under the watch id asked for.
            reply.watchID = request.watchID
            reply.canceled = true
            reply.cancelReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied"
            return try await response.write(reply)
        }
        guard let keys = Watcher.Keys(key: Array(request.key), rangeEnd: Array(request.rangeEnd)) else {
            return try await refuse(reply, reason: Self.rangeEmptyReason)
        }
        let id: Int64
        if request.watchID != 0 {
            guard watchers[request.watchID] == nil else { return try await refuse(reply, reason: Self.duplicateIDReason) }
            id = request.watchID
        } else {
            while watchers[nextWatchID] != nil { nextWatchID += 1 }
            id = nextWatchID
            nextWatchID += 1
        }
        // Revision 0 means "from now"; a future revision waits for the store to get there.
        let start = request.startRevision == 0 ? revision + 1 : max(1, request.startRevision)
        watchers[id] = Watcher(id: id, keys: keys, request: request, nextRevision: start)
        reply.watchID = id
        try await response.write(reply)
    }

    /// etcd answers a create it refuses with watch id -1, created and canceled, and the reason.
    private func refuse(_ reply: Etcdserverpb_WatchResponse, reason: String) async throws {
        var reply = reply
        reply.watchID = Self.progressWatchID
        reply.canceled = true
        reply.cancelReason = reason
        try await response.write(reply)
    }

    /// An unknown id gets no answer, as in etcd.
    private mutating func cancel(_ id: Int64) async throws {
        guard watchers.removeValue(forKey: id) != nil else { return }
        var reply = Etcdserverpb_WatchResponse()
        reply.header = await server.header(revision: hub.revision)
        reply.watchID = id
        reply.canceled = true
        try await response.write(reply)
    }

    /// One response with watch id -1 at the current revision, sent once every watcher has been
    /// sent everything up to it. A stream without watchers gets no answer, as from etcd.
    private mutating func answerProgressRequest() async throws {
        let revision = hub.revision
        guard watchers.values.allSatisfy({ $0.isSynced(at: revision) }) else { return }
        progressRequested = false
        guard !watchers.isEmpty else { return }
        try await sendProgress(watchID: Self.progressWatchID, revision: revision)
    }

    /// The periodic notification for watchers created with `progress_notify` that are
    /// caught up and had no events since the last tick.
    private mutating func notifyProgress() async throws {
        let revision = hub.revision
        for id in watchers.keys.sorted() {
            guard var watcher = watchers[id] else { continue }
            if watcher.progressNotify && !watcher.sentSinceProgressTick && watcher.isSynced(at: revision) {
                try await sendProgress(watchID: id, revision: revision)
            }
            watcher.sentSinceProgressTick = false
            watchers[id] = watcher
        }
    }

    private func sendProgress(watchID: Int64, revision: Int64) async throws {
        var reply = Etcdserverpb_WatchResponse()
        reply.header = await server.header(revision: revision)
        reply.watchID = watchID
        try await response.write(reply)
    }

    // MARK: - Events

    /// Sends each lagging watcher one batch; returns whether any still lags.
    private mutating func sendOneBatchEach() async throws -> Bool {
        let revision = hub.revision
        var lagging = false
        for id in watchers.keys.sorted() {
            guard var watcher = watchers[id], !watcher.isSynced(at: revision) else { continue }
            guard let batch = try nextBatch(for: watcher, through: revision) else {
                watchers[id] = nil
                try await sendCompacted(watchID: id)
                continue
            }
            let events = batch.events.filter(watcher.wants).map(Mvccpb_Event.init)
            if !events.isEmpty {
                var reply = Etcdserverpb_WatchResponse()
                reply.header = await server.header(revision: revision)
                reply.watchID = id
                reply.events = events
                let parts = watcher.fragment ? WatchFragmenter.split(reply, limitBytes: server.maxMessageBytes) : [reply]
                for part in parts { try await response.write(part) }
                watcher.sentSinceProgressTick = true
            }
            watcher.nextRevision = batch.nextRevision
            watchers[id] = watcher
            lagging = lagging || !watcher.isSynced(at: revision)
        }
        return lagging
    }

    /// nil when the history the watcher needs next is compacted away.
    private func nextBatch(for watcher: Watcher, through revision: Int64) throws(StorageError)
        -> WatchHistoryReader.Batch?
    {
        do {
            return try history.batch(from: watcher.nextRevision, through: revision, prevKV: watcher.prevKV)
        } catch {
            if error.code == .compacted { return nil }
            throw error
        }
    }

    /// The history the watcher needs is compacted away: etcd sends the compact revision and
    /// cancels the watcher, with header revision 0 as etcd's own response carries.
    private func sendCompacted(watchID: Int64) async throws {
        var reply = Etcdserverpb_WatchResponse()
        reply.header = await server.header(revision: 0)
        reply.watchID = watchID
        reply.compactRevision = try server.store.status().compactRevision
        reply.canceled = true
        try await response.write(reply)
    }
}
