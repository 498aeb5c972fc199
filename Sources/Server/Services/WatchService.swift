import API
import GRPCCore

/// etcd's Watch service: one bidirectional stream carries any number of watchers. Each
/// stream runs a ``WatchSession`` fed by the client's requests, the hub's wakeups and a
/// progress ticker.
struct WatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let server: EtcdServer
    let hub: WatchHub
    let progressInterval: Duration
    let eventsPerBatchMax: Int

    init(server: EtcdServer, hub: WatchHub, progressInterval: Duration, eventsPerBatchMax: Int = 1000) {
        self.server = server
        self.hub = hub
        self.progressInterval = progressInterval
        self.eventsPerBatchMax = eventsPerBatchMax
    }

    /// A service whose hub follows `server`'s raft host.
    static func attached(to server: EtcdServer, progressInterval: Duration) async throws -> WatchService {
        let hub = try await WatchHub.attached(to: server.host, store: server.store)
        return WatchService(server: server, hub: hub, progressInterval: progressInterval)
    }

    func watch(
        request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>,
        response: RPCWriter<Etcdserverpb_WatchResponse>,
        context: ServerContext
    ) async throws {
        let (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let inbox = WatchInbox(wakeup: wakeup)
        let subscription = hub.subscribe(wakeup)
        defer {
            hub.unsubscribe(subscription)
            inbox.close()
        }
        var session = WatchSession(
            server: server, hub: hub, history: WatchHistoryReader(store: server.store, eventsPerBatchMax: eventsPerBatchMax),
            response: response)
        let interval = progressInterval
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A client that half-closes keeps its watchers, as with etcd: the stream
                    // ends when the client cancels it.
                    do {
                        for try await message in request { await inbox.push(message) }
                    } catch {
                        inbox.fail(error)
                    }
                }
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil {
                        inbox.progressTick()
                    }
                }
                defer { group.cancelAll() }
                try await session.run(wakeups: wakeups, wakeup: wakeup, inbox: inbox)
            }
        } catch is CancellationError {
            return
        } catch {
            throw EtcdError.from(error)
        }
    }
}
