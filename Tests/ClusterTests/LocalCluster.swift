import Foundation
import PartitionProxy
import TestSupport
import XCTest

/// `cairn server` members on loopback ports with temp data dirs: started together with one
/// `--initial-cluster`, stopped (SIGCONT, SIGTERM, then SIGKILL) and removed at the end.
final class LocalCluster {
    let directory: TemporaryDirectory
    let binary: ServerBinary
    private(set) var members: [ServerProcess] = []
    let token: String
    /// Flags every member gets, e.g. a small `--snapshot-count`.
    let extraArguments: [String]
    /// Environment variables every member gets on top of the test's, e.g. `CAIRN_FAILPOINTS`.
    let environment: [String: String]
    /// Each member's failpoint switch, by member name, when the cluster was made with them.
    private(set) var failpointSwitches: [String: FailpointSwitch] = [:]
    private let withFailpointSwitches: Bool
    /// The pairs of members cut from each other, when the cluster was made partitionable.
    let partitions = PartitionTable()
    private var proxies: [PartitionProxy] = []
    private let withPartitions: Bool
    private let runningMembers = RunningMembers()

    /// `failpointSwitches`: each member serves `CAIRN_FAILPOINTS_HTTP` on a port of its own.
    /// `partitionable`: each member's peers reach it through a ``PartitionProxy`` that cuts the
    /// pairs `partitions` names.
    init(size: Int, extraArguments: [String] = [], environment: [String: String] = [:], failpointSwitches: Bool = false,
        partitionable: Bool = false) throws
    {
        binary = try ServerBinary.resolve(environmentVariable: "CAIRN_CLUSTER_SERVER")
        directory = try TemporaryDirectory(prefix: "cairn-cluster")
        self.extraArguments = extraArguments
        self.environment = environment
        withFailpointSwitches = failpointSwitches
        withPartitions = partitionable
        let ports = try FreePort.loopback(count: 2 * size)
        token = "cairn-cluster-\(ports[0])"
        for index in 0..<size {
            members.append(try makeMember(name: "m\(index + 1)", clientPort: ports[2 * index], peerPort: ports[2 * index + 1]))
        }
        let initialCluster = members.map { "\($0.name)=\($0.advertisedPeerURL)" }.joined(separator: ",")
        for member in members { member.initialCluster = initialCluster }
    }

    private func makeMember(name: String, clientPort: UInt16, peerPort: UInt16) throws -> ServerProcess {
        let member = ServerProcess(binary: binary, name: name, directory: directory, clientPort: clientPort, peerPort: peerPort)
        member.clusterToken = token
        member.extraArguments = extraArguments
        member.environment = environment
        if withFailpointSwitches {
            let failpoints = FailpointSwitch(port: try FreePort.loopback(count: 1)[0])
            failpointSwitches[name] = failpoints
            member.environment.merge(failpoints.environment) { $1 }
        }
        if withPartitions {
            let running = runningMembers
            let proxy = PartitionProxy(label: name, targetPort: peerPort, table: partitions) { running.all }
            try proxy.start()
            proxies.append(proxy)
            member.advertisedPeerURL = "http://127.0.0.1:\(proxy.port)"
            member.onStart = { pid in running.started(name, pid: pid) }
        }
        return member
    }

    /// The failpoint switch of `member` (the cluster must have been made with them).
    func failpoints(of member: ServerProcess) throws -> FailpointSwitch {
        guard let failpoints = failpointSwitches[member.name] else {
            throw LocalClusterError(message: "\(member.name) has no failpoint switch: make the cluster with failpointSwitches: true")
        }
        return failpoints
    }

    /// Starts every member, then waits until each answers a linearizable health check.
    func start() throws {
        for member in members { try member.start() }
        for member in members { try member.waitUntilHealthy(using: etcdctl(member)) }
    }

    /// A new member joining with `--initial-cluster-state existing` (after `member add`).
    func addJoiningMember(name: String) throws -> ServerProcess {
        let ports = try FreePort.loopback(count: 2)
        let member = try makeMember(name: name, clientPort: ports[0], peerPort: ports[1])
        member.initialCluster = (members + [member]).map { "\($0.name)=\($0.advertisedPeerURL)" }.joined(separator: ",")
        member.initialClusterState = "existing"
        members.append(member)
        return member
    }

    func etcdctl(_ members: ServerProcess...) throws -> Etcdctl {
        try Etcdctl(endpoints: (members.isEmpty ? self.members : members).map(\.clientURL), scratchDirectory: directory.path)
    }

    /// Every running member's view, keyed by member name.
    func statuses() throws -> [String: EtcdctlJSON.EndpointStatus.Status] {
        var result: [String: EtcdctlJSON.EndpointStatus.Status] = [:]
        for member in members where member.isRunning {
            let statuses = try? etcdctl(member).json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self)
            if let status = statuses?.first?.status { result[member.name] = status }
        }
        return result
    }

    /// The member the running members agree leads, once they do; nil at the deadline.
    func waitForLeader(among candidates: [ServerProcess]? = nil, timeout: Duration = .seconds(20)) throws -> ServerProcess? {
        let deadline = ContinuousClock.now + timeout
        let pool = (candidates ?? members).filter(\.isRunning)
        while ContinuousClock.now < deadline {
            let statuses = try statuses().filter { name, _ in pool.contains { $0.name == name } }
            let leaders = Set(statuses.values.map(\.leader))
            if statuses.count == pool.count, leaders.count == 1, let leader = leaders.first, leader != 0,
                let member = pool.first(where: { statuses[$0.name]?.header.memberID == leader })
            {
                return member
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    /// Polls `condition` until it holds or `timeout` passes.
    func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("\(what): not within \(timeout)")
        throw LocalClusterError(message: "\(what): not within \(timeout)\n\(logTails())")
    }

    func logTails(lines: Int = 25) -> String {
        members.map { "--- \($0.name) (\($0.exitDescription)):\n\($0.logTail(lines: lines))" }.joined(separator: "\n")
    }

    func stop() {
        partitions.heal()
        for member in members {
            if let pid = member.pid { kill(pid, SIGCONT) }
            member.stop()
        }
        for proxy in proxies { proxy.stop() }
        directory.remove()
    }
}

/// The process ids the members last started with, for the partition proxies' threads to
/// tell which member dialled a connection.
private final class RunningMembers: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: [String: pid_t] = [:]

    func started(_ name: String, pid: pid_t) { lock.withLock { pids[name] = pid } }

    var all: [PartitionMember] { lock.withLock { pids.map { PartitionMember(pid: $1, label: $0) } } }
}

struct LocalClusterError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A test that runs a ``LocalCluster``: stopped and removed after each test, its members'
/// log tails printed when the test failed.
class ClusterTestCase: XCTestCase {
    var cluster: LocalCluster!

    /// Starts a cluster of `size` members, each given `extraArguments`.
    func startCluster(size: Int = 3, _ extraArguments: [String] = []) throws -> LocalCluster {
        cluster = try LocalCluster(size: size, extraArguments: extraArguments)
        try cluster.start()
        return cluster
    }

    override func tearDown() {
        if let cluster, let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
            print(cluster.logTails())
        }
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }
}
