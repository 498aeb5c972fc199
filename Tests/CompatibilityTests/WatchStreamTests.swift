import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import TestSupport
import XCTest

/// What etcdctl 3.4 cannot ask for, over a raw gRPC watch stream: progress requests (which
/// Kubernetes uses for consistent reads from its cache), periodic progress notifications and
/// fragmented responses.
final class WatchStreamTests: CompatibilityTestCase {
    static let maxRequestBytes = 64 << 10

    override class var serverArguments: [String] {
        ["--experimental-watch-progress-notify-interval", "300ms", "--max-request-bytes", "\(maxRequestBytes)"]
    }

    private struct StreamTimeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Everything the server sent on the stream, in order.
    private actor Received {
        private(set) var responses: [Etcdserverpb_WatchResponse] = []
        func append(_ response: Etcdserverpb_WatchResponse) { responses.append(response) }
    }

    /// Polls until a response at or after `start` matches, for at most `timeout`.
    private func first(
        in received: Received, from start: Int = 0, _ what: String, timeout: Duration = .seconds(10),
        where matches: (Etcdserverpb_WatchResponse) -> Bool
    ) async throws -> (index: Int, response: Etcdserverpb_WatchResponse) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let responses = await received.responses
            if start < responses.count, let index = responses[start...].firstIndex(where: matches) {
                return (index, responses[index])
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = await received.responses.map { "id \($0.watchID) rev \($0.header.revision) events \($0.events.count)" }
        throw StreamTimeout(description: "no \(what) within \(timeout); responses: \(seen)")
    }

    private func create(_ key: String, prefix: Bool = true, from revision: Int64 = 0, progressNotify: Bool = false,
        fragment: Bool = false) -> Etcdserverpb_WatchRequest
    {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(key.utf8)
        if prefix { create.rangeEnd = Data(key.utf8.dropLast()) + [key.utf8.last! + 1] }
        create.startRevision = revision
        create.progressNotify = progressNotify
        create.fragment = fragment
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        return request
    }

    func testProgressRequestsNotificationsAndFragments() async throws {
        for index in 1...3 { try put("k\(index)", "v\(index)") }  // revisions 2...4
        let big = String(repeating: "b", count: 60 << 10)
        for index in 1...12 { try put("big/\(index)", big) }  // revisions 5...16
        let transport = try clientTransport()
        let received = Received()
        let (requests, send) = AsyncStream.makeStream(of: Etcdserverpb_WatchRequest.self)

        try await withGRPCClient(transport: transport) { client in
            let watch = Task {
                try await Etcdserverpb_Watch.Client(wrapping: client).watch(
                    requestProducer: { writer in
                        for await request in requests { try await writer.write(request) }
                    },
                    onResponse: { response in
                        for try await message in response.messages { await received.append(message) }
                    })
            }
            defer {
                send.finish()
                watch.cancel()
            }

            // A progress request asked while a watcher replays history is answered after it.
            send.yield(create("k", from: 2))  // the k1...k3 puts, not big/
            var progress = Etcdserverpb_WatchRequest()
            progress.progressRequest = Etcdserverpb_WatchProgressRequest()
            send.yield(progress)
            let created = try await first(in: received, "created response") { $0.created }
            let answer = try await first(in: received, "progress response") { $0.watchID == -1 && !$0.created }
            XCTAssertEqual(answer.response.header.revision, 16)
            XCTAssertTrue(answer.response.events.isEmpty)
            if server.binary.kind == .cairn {
                // etcd 3.4 answers at once, possibly before the history; 3.5 waits, as cairn does.
                let before = await received.responses[..<answer.index].filter { $0.watchID == created.response.watchID }
                XCTAssertEqual(before.flatMap(\.events).map(\.kv.modRevision), [2, 3, 4])
            }

            // A quiet watcher asking for progress notifications gets one per interval.
            let mark = await received.responses.count
            send.yield(create("quiet", progressNotify: true))
            let quiet = try await first(in: received, from: mark, "created quiet watcher") { $0.created }
            let notification = try await first(in: received, from: quiet.index + 1, "progress notification") {
                $0.watchID == quiet.response.watchID && $0.events.isEmpty
            }
            XCTAssertEqual(notification.response.header.revision, 16)

            // Twelve 60 KiB values exceed the limit together (etcd's: --max-request-bytes plus
            // 512 KiB of gRPC overhead), so they arrive in fragments the client joins.
            let fragmentsStart = await received.responses.count
            send.yield(create("big/", from: 5, fragment: true))
            let bigWatcher = try await first(in: received, from: fragmentsStart, "created fragmenting watcher") { $0.created }
            let last = try await first(in: received, from: bigWatcher.index + 1, "last fragment") {
                $0.watchID == bigWatcher.response.watchID && !$0.events.isEmpty && !$0.fragment
            }
            let parts = await received.responses[(bigWatcher.index + 1)...last.index].filter {
                $0.watchID == bigWatcher.response.watchID && !$0.events.isEmpty
            }
            XCTAssertGreaterThan(parts.count, 1)
            XCTAssertEqual(parts.map(\.fragment), Array(repeating: true, count: parts.count - 1) + [false])
            XCTAssertEqual(parts.flatMap(\.events).map(\.kv.modRevision), Array(5...16))
            for part in parts {
                XCTAssertLessThan((try part.serializedBytes() as [UInt8]).count, Self.maxRequestBytes + 512 * 1024)
            }
        }
    }
}
