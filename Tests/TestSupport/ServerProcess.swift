import Foundation
import XCTest

/// One server process (cairn or etcd, see `ServerBinary`) with its data dir and loopback ports,
/// started with etcd's flags, restartable on the same data dir, its output kept in a log file
/// whose tail goes into failure messages.
public final class ServerProcess {
    public let binary: ServerBinary
    public let name: String
    public let dataDirectory: String
    public let clientURL: String
    /// Where the member listens for its peers.
    public let peerURL: String
    /// Where its peers reach it (`--initial-advertise-peer-urls`): `peerURL` unless something,
    /// such as a partition proxy, stands in between.
    public var advertisedPeerURL: String
    public let logPath: String
    /// `--initial-cluster`: this member alone unless a cluster sets it.
    public var initialCluster: String
    /// `--initial-cluster-state`: `existing` for a member joining after `member add`.
    public var initialClusterState = "new"
    public var clusterToken: String
    /// Flags after the common ones, such as a small `--quota-backend-bytes`.
    public var extraArguments: [String] = []
    /// Variables added to the test's environment, such as `CAIRN_FAILPOINTS`.
    public var environment: [String: String] = [:]
    /// Called with the process id each time the server starts.
    public var onStart: ((Int32) -> Void)?
    private var process: Process?
    private var exited: ProcessExit?
    private var starts = 0

    public init(binary: ServerBinary, name: String, directory: TemporaryDirectory, clientPort: UInt16, peerPort: UInt16) {
        self.binary = binary
        self.name = name
        dataDirectory = directory.file("\(name).data")
        clientURL = "http://127.0.0.1:\(clientPort)"
        peerURL = "http://127.0.0.1:\(peerPort)"
        advertisedPeerURL = peerURL
        logPath = directory.file("\(name).log")
        clusterToken = "cairn-compat-\(clientPort)"
        initialCluster = "\(name)=http://127.0.0.1:\(peerPort)"
    }

    /// The flags both cairn and etcd accept; a restart passes the same ones (both ignore the
    /// initial-cluster flags once the data dir holds state).
    public var arguments: [String] {
        binary.leadingArguments + [
            "--name", name,
            "--data-dir", dataDirectory,
            "--listen-client-urls", clientURL,
            "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL,
            "--initial-advertise-peer-urls", advertisedPeerURL,
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", initialClusterState,
            "--initial-cluster-token", clusterToken,
        ] + extraArguments
    }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// The process id while running (for SIGSTOP/SIGCONT).
    public var pid: Int32? { isRunning ? process?.processIdentifier : nil }

    public func start() throws {
        precondition(!isRunning, "start() while the server is running")
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw ServerBinaryError(message: "cannot open the server log \(logPath)")
        }
        defer { try? log.close() }
        starts += 1
        try log.seekToEnd()
        log.write(Data("=== start \(starts): \(binary.executable) \(arguments.joined(separator: " "))\n".utf8))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary.executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        exited = try ProcessExit.run(process)
        self.process = process
        onStart?(process.processIdentifier)
    }

    /// Polls `etcdctl endpoint health` until it succeeds; fails early, with the log, when the
    /// process exits, and when `timeout` passes.
    public func waitUntilHealthy(using etcdctl: Etcdctl, timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        var last: EtcdctlResult?
        while ContinuousClock.now < deadline {
            guard let process, process.isRunning else {
                throw ServerProcessError(message: "the server exited (\(exitDescription)) before it became healthy", server: self)
            }
            let result = try etcdctl.run(["endpoint", "health", "--command-timeout=1s", "--dial-timeout=1s"], timeout: .seconds(5))
            if result.succeeded { return }
            last = result
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ServerProcessError(
            message: "the server was not healthy within \(timeout); last health check: \(last.map(String.init(describing:)) ?? "none")",
            server: self
        )
    }

    /// Sends `signal` and waits up to `timeout` for the process to exit; true when it did.
    @discardableResult
    public func signal(_ signal: Int32, waitingUpTo timeout: Duration = .seconds(10)) -> Bool {
        guard let process else { return true }
        if process.isRunning { _ = kill(process.processIdentifier, signal) }
        return exited?.wait(upTo: timeout) ?? true
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(5)) {
        if !signal(SIGTERM, waitingUpTo: grace) {
            signal(SIGKILL)
        }
    }

    /// Stops the server and, when the test that ran it failed, prints its log tail.
    public func stop(after run: XCTestRun?) {
        stop()
        if let run, run.failureCount + run.unexpectedExceptionCount > 0 {
            print("--- \(binary) log tail (\(logPath)):\n\(logTail())")
        }
    }

    /// Waits up to `timeout` for the process to exit by itself; true when it has.
    public func waitForExit(upTo timeout: Duration) -> Bool {
        exited?.wait(upTo: timeout) ?? true
    }

    /// The status the process exited with; nil while running, never started, or killed by a signal.
    public var exitStatus: Int32? {
        guard let process, !process.isRunning, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    public var exitDescription: String {
        guard let process else { return "never started" }
        if process.isRunning { return "running, pid \(process.processIdentifier)" }
        let reason = process.terminationReason == .uncaughtSignal ? "signal" : "status"
        return "\(reason) \(process.terminationStatus)"
    }

    public func logTail(lines: Int = 30) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log at \(logPath))" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .suffix(lines).joined(separator: "\n")
    }
}

public struct ServerProcessError: Error, CustomStringConvertible {
    public let message: String
    public let description: String

    init(message: String, server: ServerProcess) {
        self.message = message
        description = "\(server.binary) \(server.name): \(message)\n--- last lines of \(server.logPath):\n\(server.logTail())"
    }
}
