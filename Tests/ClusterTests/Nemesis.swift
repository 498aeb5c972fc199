import Foundation
import Raft
import Storage
import TestSupport

/// Faults for a robustness run, one at a time, chosen by a seed: kill -9 a member and restart
/// it, pause one (SIGSTOP) and resume it, cut one member (or, of five, two) off from the
/// others' network and heal it (the cluster must be partitionable), move the leadership, crash a member at one of its
/// failpoints, make a member fall behind so far that it needs a raft snapshot and crash the
/// sender or the receiver of that snapshot, or replace a member (remove it, wipe its data, add
/// it back empty). Each fault ends with every member running and healthy, so the cluster keeps
/// its quorum and the run keeps making progress.
final class Nemesis: @unchecked Sendable {
    enum Fault: String, CaseIterable {
        case kill, pause, partition, moveLeader = "move-leader", crash, snapshotCrash = "snapshot-crash", replace

        /// The faults that need cairn's failpoints (an etcd release build has none).
        var needsFailpoints: Bool { self == .crash || self == .snapshotCrash }
    }

    /// Failpoints a running member hits on its own while the clients write, or on a defrag.
    /// Compaction is left out: the run's durability check reads its whole history back.
    static let crashPoints: [Failpoint] = [
        .crashBeforeWALFsync, .crashAfterWALFsync, .crashBeforeBackendCommit, .crashAfterBackendCommit, .crashDuringDefrag,
    ]

    private let cluster: LocalCluster
    private let faults: [Fault]
    /// Entries a leader applies before a member that stopped needs a raft snapshot
    /// (`--snapshot-count` plus the catch-up entries, with a margin).
    private let snapshotDistance: UInt64
    private var random: SplitMix64
    private(set) var injected: [String] = []

    init(cluster: LocalCluster, seed: UInt64, faults: [Fault], snapshotDistance: UInt64 = 0) {
        self.cluster = cluster
        self.faults = faults
        self.snapshotDistance = snapshotDistance
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

    /// How many of the injected faults were of `fault`.
    func count(_ fault: Fault) -> Int { injected.filter { $0.hasPrefix(fault.rawValue + ":") }.count }

    private func injectFaults(until deadline: ContinuousClock.Instant) throws {
        while ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: interval(0.3, 1.5))
            guard ContinuousClock.now < deadline else { break }
            let fault = faults.randomElement(using: &random)!
            let member = cluster.members.randomElement(using: &random)!
            let what: String? =
                switch fault {
                case .kill: try killAndRestart(member)
                case .pause: pauseAndResume(member)
                case .partition: try partition(member)
                case .moveLeader: try moveLeader()
                case .crash: try crash(member)
                case .snapshotCrash: try snapshotCrash()
                case .replace: try replace(member)
                }
            if let what { injected.append("\(fault.rawValue): \(what)") }
        }
    }

    private func killAndRestart(_ member: ServerProcess) throws -> String {
        member.signal(SIGKILL)
        Thread.sleep(forTimeInterval: interval(0.1, 1.5))
        try restart(member)
        return "kill -9 \(member.name), restarted"
    }

    private func pauseAndResume(_ member: ServerProcess) -> String? {
        guard let pid = member.pid else { return nil }
        kill(pid, SIGSTOP)
        Thread.sleep(forTimeInterval: interval(0.1, 2.0))
        kill(pid, SIGCONT)
        return "SIGSTOP \(member.name), SIGCONT"
    }

    /// Cuts `member` (and in a cluster of five, half the time, one more) off from the rest, so
    /// that neither side hears the other, for up to 3 s; then heals it and waits until every
    /// member serves again.
    private func partition(_ member: ServerProcess) throws -> String {
        var side = [member.name]
        let others = cluster.members.map(\.name).filter { $0 != member.name }
        if others.count >= 4, Bool.random(using: &random) { side.append(others.randomElement(using: &random)!) }
        let rest = others.filter { !side.contains($0) }
        cluster.partitions.split(side, rest)
        let seconds = interval(0.5, 3.0)
        Thread.sleep(forTimeInterval: seconds)
        cluster.partitions.heal()
        for member in cluster.members { try member.waitUntilHealthy(using: cluster.etcdctl(member), timeout: .seconds(60)) }
        return "\(side.joined(separator: ",")) | \(rest.joined(separator: ",")) for \(String(format: "%.1f", seconds)) s, healed"
    }

    private func moveLeader() throws -> String? {
        guard let leader = try cluster.waitForLeader(timeout: .seconds(10)),
            let target = cluster.members.filter({ $0 !== leader }).randomElement(using: &random),
            let targetID = try cluster.statuses()[target.name]?.header.memberID
        else { return nil }
        let moved = try cluster.etcdctl(leader).run(["move-leader", String(targetID, radix: 16)])
        return "\(leader.name) -> \(target.name)\(moved.succeeded ? "" : " (refused)")"
    }

    /// Arms a crash failpoint in `member` and waits for the member to hit it (the clients'
    /// writes reach the WAL and backend ones; a defrag the defrag one), then restarts it.
    private func crash(_ member: ServerProcess) throws -> String {
        let failpoint = Self.crashPoints.randomElement(using: &random)!
        let switchboard = try cluster.failpoints(of: member)
        try switchboard.arm(failpoint.rawValue)
        if failpoint == .crashDuringDefrag {
            _ = try cluster.etcdctl(member).run(["defrag", "--command-timeout=10s"], timeout: .seconds(15))
        }
        let crashed = member.waitForExit(upTo: .seconds(10))
        guard crashed else {
            try switchboard.disarm(failpoint.rawValue)
            return "\(failpoint.rawValue) in \(member.name) not hit"
        }
        guard member.exitStatus == Failpoint.crashExitStatus else {
            throw LocalClusterError(message: "\(member.name) exited (\(member.exitDescription)) while \(failpoint.rawValue) was armed\n\(member.logTail())")
        }
        try restart(member)
        return "\(failpoint.rawValue) in \(member.name), restarted"
    }

    /// Kills a follower until the leader's log has moved past what it keeps for catching up,
    /// then restarts it, so that it needs a raft snapshot; the leader crashes while sending it,
    /// or the follower while applying it.
    private func snapshotCrash() throws -> String? {
        guard let leader = try cluster.waitForLeader(timeout: .seconds(10)),
            let behind = cluster.members.filter({ $0 !== leader }).randomElement(using: &random),
            let start = try cluster.statuses()[leader.name]?.raftIndex
        else { return nil }
        behind.signal(SIGKILL)
        // Writes of its own, outside the clients' keys: the clients may be done already.
        let others = try cluster.etcdctl(leader)
        var filler = 0
        try cluster.eventually("the leader's log moves \(snapshotDistance) entries past a stopped follower", timeout: .seconds(60)) {
            if (try cluster.statuses()[leader.name]?.raftIndex ?? 0) >= start + snapshotDistance { return true }
            for _ in 0..<20 {
                filler += 1
                _ = try others.run(["put", "nemesis/filler", "\(filler)"])
            }
            return false
        }
        let senderCrashes = Bool.random(using: &random)
        let victim = senderCrashes ? leader : behind
        let failpoint: Failpoint = senderCrashes ? .crashDuringSnapshotSend : .crashDuringSnapshotApply
        if senderCrashes { try cluster.failpoints(of: leader).arm(failpoint.rawValue) }
        let environment = behind.environment
        if !senderCrashes { behind.environment[Failpoint.environmentVariable] = failpoint.rawValue }
        try behind.start()
        behind.environment = environment
        let crashed = victim.waitForExit(upTo: .seconds(20))
        if !crashed, senderCrashes { try cluster.failpoints(of: leader).disarm(failpoint.rawValue) }
        if crashed {
            guard victim.exitStatus == Failpoint.crashExitStatus else {
                throw LocalClusterError(message: "\(victim.name) exited (\(victim.exitDescription)) while \(failpoint.rawValue) was armed\n\(victim.logTail())")
            }
            try restart(victim)
        } else if !senderCrashes {
            // The follower caught up without a snapshot after all: restart it disarmed.
            victim.stop()
            try restart(victim)
        }
        if victim !== behind { try behind.waitUntilHealthy(using: cluster.etcdctl(behind), timeout: .seconds(60)) }
        return "\(behind.name) fell behind; \(failpoint.rawValue) in \(victim.name)\(crashed ? ", restarted" : " not hit")"
    }

    /// etcd's member replacement: remove the member, wait until it stops itself, wipe its data,
    /// add it back under the same name and peer URL, and start it empty to join the cluster.
    private func replace(_ member: ServerProcess) throws -> String {
        let others = cluster.members.filter { $0 !== member }
        let etcdctl = try cluster.etcdctl(others[0], others[1])
        guard let id = try cluster.statuses()[member.name]?.header.memberID else {
            throw LocalClusterError(message: "\(member.name) did not report its member id")
        }
        try cluster.eventually("\(member.name) is removed", timeout: .seconds(30)) {
            try etcdctl.succeed(["member", "remove", String(id, radix: 16)])
            return true
        }
        if !member.waitForExit(upTo: .seconds(10)) { member.stop() }
        try FileManager.default.removeItem(atPath: member.dataDirectory)
        try cluster.eventually("\(member.name) is added back", timeout: .seconds(30)) {
            try etcdctl.succeed(["member", "add", member.name, "--peer-urls=\(member.advertisedPeerURL)"])
            return true
        }
        member.initialClusterState = "existing"
        member.initialCluster = cluster.members.map { "\($0.name)=\($0.advertisedPeerURL)" }.joined(separator: ",")
        try restart(member)
        return "\(member.name) removed, wiped and added back"
    }

    private func restart(_ member: ServerProcess) throws {
        try member.start()
        try member.waitUntilHealthy(using: cluster.etcdctl(member), timeout: .seconds(60))
    }

    private func interval(_ low: Double, _ high: Double) -> TimeInterval {
        Double.random(in: low...high, using: &random)
    }
}
