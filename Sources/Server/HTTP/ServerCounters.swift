import Foundation
import Synchronization

/// Event counts for `/metrics` that no component keeps for its own use: failed proposals and
/// gRPC calls by method and status code (etcd's and go-grpc-prometheus's metric names).
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
    }

    private let state = Mutex(State())

    func proposalFailed() { state.withLock { $0.proposalsFailed += 1 } }

    func started(_ call: Call) { state.withLock { $0.started[call, default: 0] += 1 } }

    func handled(_ call: Call, code: String) { state.withLock { $0.handled[call, default: [:]][code, default: 0] += 1 } }

    var proposalsFailed: Int { state.withLock { $0.proposalsFailed } }
    var startedCalls: [Call: Int] { state.withLock { $0.started } }
    var handledCalls: [Call: [String: Int]] { state.withLock { $0.handled } }
}
