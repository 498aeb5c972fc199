import Foundation
import Synchronization
import Storage

/// The answers of `/health`, `/livez` and `/readyz`, as etcd gives them, so probes written for
/// etcd (kubeadm's `httpGet /health` on port 2381, a load balancer's check) work unchanged.
struct HealthChecks: Sendable {
    let server: EtcdServer
    /// etcd's bound on the read through raft that `/health` makes.
    static let readTimeout = Duration.seconds(1)

    /// `/health[?exclude=NOSPACE][&serializable=true]`: no active alarm (but the excluded
    /// ones), a leader, and a read through raft within one second.
    func health(excluding excluded: Set<String>, serializable: Bool) async -> (healthy: Bool, reason: String) {
        let alarms = (try? server.store.alarms()) ?? []
        for alarm in alarms where !excluded.contains(Self.name(alarm.kind)) {
            return (false, "ALARM \(Self.name(alarm.kind))")
        }
        guard await server.host.leader != .none else { return (false, "RAFT NO LEADER") }
        if !serializable, !(await linearizableRead()) { return (false, "RAFT NO LEADER") }
        return (true, "")
    }

    /// `/readyz` (etcd 3.5.13): the checks that must pass before the member takes traffic.
    func readiness() async -> [(name: String, passed: Bool)] {
        let alarms = (try? server.store.alarms()) ?? []
        let serializable = (try? server.store.status()) != nil
        return [
            ("data_corruption", !alarms.contains { $0.kind == .corrupt }),
            ("serializable_read", serializable),
            ("linearizable_read", await linearizableRead()),
        ]
    }

    /// `/livez`: the process answers and its store can be read.
    func liveness() -> [(name: String, passed: Bool)] {
        [("serializable_read", (try? server.store.status()) != nil)]
    }

    /// Whether a read through raft completes within ``readTimeout``. The read itself is not
    /// cancellable (raft answers it or times it out much later), so it is left to finish on its
    /// own: a probe must answer in time, not wait for raft's request timeout.
    private func linearizableRead() async -> Bool {
        let host = server.host
        let answer = FirstAnswer()
        return await withCheckedContinuation { continuation in
            answer.pending.withLock { $0 = continuation }
            let finish: @Sendable (Bool) -> Void = { result in
                answer.pending.withLock { pending in
                    pending?.resume(returning: result)
                    pending = nil
                }
            }
            Task { finish((try? await host.linearizableBarrier()) != nil) }
            Task {
                try? await Task.sleep(for: Self.readTimeout)
                finish(false)
            }
        }
    }

    /// Whichever of the read and the timeout ends first answers; the other finds nothing to resume.
    private final class FirstAnswer: Sendable {
        let pending = Mutex<CheckedContinuation<Bool, Never>?>(nil)
    }

    static func name(_ kind: AlarmRecord.Kind) -> String {
        switch kind {
        case .noSpace: "NOSPACE"
        case .corrupt: "CORRUPT"
        }
    }
}
