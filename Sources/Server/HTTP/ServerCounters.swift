import Foundation
import Storage
import Synchronization

/// Event counts for `/metrics` that no component keeps for its own use: failed proposals and
/// gRPC calls by method and status code, and how long each took (etcd's and go-grpc-prometheus's
/// metric names).
final class ServerCounters: Sendable {
    struct Call: Hashable {
        var type: String
        var service: String
        var method: String
    }

    private struct State {
        var proposalsFailed = 0
        var started: [Call: Int] = [:]
        var handled: [Call: [String: Int]] = [:]
        var handlingTime: [Call: LatencyHistogram] = [:]
    }

    /// go-grpc-prometheus's default buckets for `grpc_server_handling_seconds`.
    static let handlingBucketsSeconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let state = Mutex(State())

    func proposalFailed() { state.withLock { $0.proposalsFailed += 1 } }

    func started(_ call: Call) { state.withLock { $0.started[call, default: 0] += 1 } }

    /// A call ended with `code` after `duration` (a stream's whole life, for streams).
    func handled(_ call: Call, code: String, after duration: Duration) {
        let histogram = state.withLock { state in
            state.handled[call, default: [:]][code, default: 0] += 1
            if let existing = state.handlingTime[call] { return existing }
            let created = LatencyHistogram(boundsSeconds: Self.handlingBucketsSeconds)
            state.handlingTime[call] = created
            return created
        }
        histogram.observe(duration)
    }

    var proposalsFailed: Int { state.withLock { $0.proposalsFailed } }
    var startedCalls: [Call: Int] { state.withLock { $0.started } }
    var handledCalls: [Call: [String: Int]] { state.withLock { $0.handled } }
    var handlingTimes: [Call: LatencyHistogram] { state.withLock { $0.handlingTime } }
}
