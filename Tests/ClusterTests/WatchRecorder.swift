import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Linearizability
import Synchronization

/// A watcher on a key prefix from a start revision, through any member: when its stream fails
/// (its member killed or paused) it resumes on the next member from the revision after the last
/// event it saw, as etcd's clients do. Keeps every event it received, in order.
final class WatchRecorder: Sendable {
    private let endpoints: [String]
    private let prefix: String
    private let startRevision: Int64
    private let state = Mutex<(events: [WatchEvent], reconnects: Int)>(([], 0))

    init(endpoints: [String], prefix: String, startRevision: Int64) {
        self.endpoints = endpoints
        self.prefix = prefix
        self.startRevision = startRevision
    }

    var events: [WatchEvent] { state.withLock { $0.events } }
    var reconnects: Int { state.withLock { $0.reconnects } }
    private var lastRevision: Int64 { state.withLock { $0.events.last?.revision ?? startRevision - 1 } }

    /// Watches until cancelled.
    func run() async {
        var member = 0
        while !Task.isCancelled {
            do {
                try await watchOnce(endpoint: endpoints[member])
            } catch {}
            if Task.isCancelled { return }
            state.withLock { $0.reconnects += 1 }
            member = (member + 1) % endpoints.count
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until an event at `revision` or later has arrived; false at the deadline.
    func waitUntil(revision: Int64, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while lastRevision < revision {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    private func watchOnce(endpoint: String) async throws {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(prefix.utf8)
        create.rangeEnd = Data(prefix.utf8.dropLast()) + [prefix.utf8.last! + 1]
        create.startRevision = lastRevision + 1
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        try await withGRPCClient(transport: try loopbackTransport(endpoint)) { client in
            try await Etcdserverpb_Watch.Client(wrapping: client).watch(
                requestProducer: { [request] writer in
                    try await writer.write(request)
                    // Keep the stream open until the watch is cancelled.
                    try await Task.sleep(for: .seconds(86_400))
                },
                onResponse: { [self] response in
                    for try await message in response.messages {
                        if message.canceled { throw RobustnessError(message: "watch canceled: \(message.cancelReason)") }
                        let received = message.events.map { event in
                            WatchEvent(revision: event.kv.modRevision, key: String(decoding: event.kv.key, as: UTF8.self),
                                kind: event.type == .delete ? .delete : .put,
                                value: event.type == .delete ? nil : String(decoding: event.kv.value, as: UTF8.self))
                        }
                        state.withLock { $0.events.append(contentsOf: received) }
                    }
                })
        }
    }
}
