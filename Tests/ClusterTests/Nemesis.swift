import Foundation
import Raft
import TestSupport

/// Faults for a robustness run, one at a time, chosen by a seed: kill -9 a member and restart
/// it, pause one (SIGSTOP) and resume it, or move the leadership to another member. At most one
/// member is down at a time, so the cluster keeps a quorum and the run keeps making progress.
final class Nemesis: @unchecked Sendable {
    enum Fault: String, CaseIterable {
        case kill, pause, moveLeader = "move-leader"
    }

    private let cluster: LocalCluster
    private var random: SplitMix64
    private(set) var injected: [String] = []

    init(cluster: LocalCluster, seed: UInt64) {
        self.cluster = cluster
        random = SplitMix64(seed: seed)
    }

    /// Injects faults until `deadline` on a thread of its own (the faults block on processes
    /// and etcdctl), leaving every member running and healthy.
    func run(until deadline: ContinuousClock.Instant) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { [self] in
                continuation.resume(with: Result { try injectFaults(until: deadline) })
            }.start()
        }
    }

    private func injectFaults(until deadline: ContinuousClock.Instant) throws {
        while ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: interval(0.3, 1.5))
            guard ContinuousClock.now < deadline else { break }
            let fault = Fault.allCases.randomElement(using: &random)!
            let member = cluster.members.randomElement(using: &random)!
            switch fault {
            case .kill:
                member.signal(SIGKILL)
                Thread.sleep(forTimeInterval: interval(0.1, 1.5))
                try member.start()
                try member.waitUntilHealthy(using: cluster.etcdctl(member))
                injected.append("kill -9 \(member.name), restarted")
            case .pause:
                guard let pid = member.pid else { continue }
                kill(pid, SIGSTOP)
                Thread.sleep(forTimeInterval: interval(0.1, 2.0))
                kill(pid, SIGCONT)
                injected.append("SIGSTOP \(member.name), SIGCONT")
            case .moveLeader:
                guard let leader = try cluster.waitForLeader(timeout: .seconds(10)),
                    let target = cluster.members.filter({ $0 !== leader }).randomElement(using: &random),
                    let targetID = try cluster.statuses()[target.name]?.header.memberID
                else { continue }
                let moved = try cluster.etcdctl(leader).run(["move-leader", String(targetID, radix: 16)])
                injected.append("move-leader \(leader.name) -> \(target.name)\(moved.succeeded ? "" : " (refused)")")
            }
        }
    }

    private func interval(_ low: Double, _ high: Double) -> TimeInterval {
        Double.random(in: low...high, using: &random)
    }
}
