import Foundation

/// The real `etcdctl` (v3 API) pointed at one set of endpoints. Every call has etcd's own
/// `--command-timeout` and, in case etcdctl itself hangs, a wall-clock timeout after which
/// the process is killed. Output goes through files in `scratchDirectory`, so a chatty
/// command can never block on a full pipe.
public struct Etcdctl: Sendable {
    public let executable: String
    public let endpoints: [String]
    public let scratchDirectory: String
    public var commandTimeout: Duration = .seconds(5)

    public init(endpoints: [String], scratchDirectory: String) throws {
        guard let executable = ServerBinary.findInPath("etcdctl") ?? ["/usr/bin/etcdctl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ServerBinaryError(message: "etcdctl is not installed (Debian: apt-get install etcd-client)")
        }
        self.executable = executable
        self.endpoints = endpoints
        self.scratchDirectory = scratchDirectory
    }

    /// The flags every call starts with; a later `--command-timeout` in `arguments` wins.
    public var globalArguments: [String] {
        ["--endpoints=\(endpoints.joined(separator: ","))", "--dial-timeout=2s", "--command-timeout=\(commandTimeout.components.seconds)s"]
    }

    /// etcdctl 3.4 defaults to the v3 API already; the variable makes that explicit, and any
    /// other ETCDCTL_* variable in the test's environment is dropped so it cannot change flags.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCDCTL_") }
        environment["ETCDCTL_API"] = "3"
        return environment
    }

    /// Runs etcdctl to completion; never throws for a non-zero exit (see `succeed`, `json`).
    public func run(_ arguments: [String], stdin: String? = nil, timeout: Duration? = nil) throws -> EtcdctlResult {
        let stem = scratchDirectory + "/etcdctl-" + UUID().uuidString
        let paths = (input: stem + ".in", output: stem + ".out", error: stem + ".err")
        defer { [paths.input, paths.output, paths.error].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        try createFile(paths.input, contents: Data((stdin ?? "").utf8))
        try createFile(paths.output)
        try createFile(paths.error)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = globalArguments + arguments
        process.environment = environment
        let handles = [FileHandle(forReadingAtPath: paths.input), FileHandle(forWritingAtPath: paths.output),
            FileHandle(forWritingAtPath: paths.error)]
        // Closed explicitly: the Process keeps them open otherwise, and a suite that runs
        // thousands of commands runs out of descriptors (Foundation's Process.run crashed past ~1,300).
        defer { handles.forEach { try? $0?.close() } }
        process.standardInput = handles[0]
        process.standardOutput = handles[1]
        process.standardError = handles[2]
        let exited = try ProcessExit.run(process)
        let timedOut = !exited.wait(upTo: timeout ?? commandTimeout + .seconds(10))
        if timedOut {
            _ = kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return EtcdctlResult(
            arguments: arguments,
            status: timedOut ? nil : process.terminationStatus,
            stdout: read(paths.output),
            stderr: read(paths.error)
        )
    }

    /// Runs etcdctl and returns its standard output; throws unless it exited 0.
    @discardableResult
    public func succeed(_ arguments: [String], stdin: String? = nil) throws -> String {
        let result = try run(arguments, stdin: stdin)
        guard result.succeeded else { throw EtcdctlError(message: "etcdctl failed", result: result) }
        return result.stdout
    }

    /// Runs etcdctl with `-w json` and decodes its output; throws unless it exited 0.
    public func json<Response: Decodable>(_ arguments: [String], stdin: String? = nil, as type: Response.Type = Response.self) throws -> Response {
        let result = try run(arguments + ["-w", "json"], stdin: stdin)
        guard result.succeeded else { throw EtcdctlError(message: "etcdctl failed", result: result) }
        do {
            return try JSONDecoder().decode(Response.self, from: Data(result.stdout.utf8))
        } catch {
            throw EtcdctlError(message: "cannot decode \(Response.self) (\(error))", result: result)
        }
    }

    /// Runs etcdctl expecting it to fail; returns the result (its stderr holds etcd's message).
    public func fail(_ arguments: [String], stdin: String? = nil) throws -> EtcdctlResult {
        let result = try run(arguments, stdin: stdin)
        guard result.status != nil, !result.succeeded else {
            throw EtcdctlError(message: result.status == nil ? "etcdctl timed out" : "etcdctl succeeded but should have failed", result: result)
        }
        return result
    }

    /// Starts `etcdctl watch <arguments> -w json` in the background.
    public func watch(_ arguments: [String]) throws -> EtcdctlWatch {
        let errorPath = scratchDirectory + "/etcdctl-watch-" + UUID().uuidString + ".err"
        try createFile(errorPath)
        let child = try ChildProcess(
            executable: executable,
            arguments: globalArguments + ["watch"] + arguments + ["-w", "json"],
            environment: environment,
            errorOutput: FileHandle(forWritingAtPath: errorPath)
        )
        return EtcdctlWatch(child: child, arguments: arguments, errorPath: errorPath)
    }

    private func createFile(_ path: String, contents: Data = Data()) throws {
        guard FileManager.default.createFile(atPath: path, contents: contents) else {
            throw ServerBinaryError(message: "cannot create \(path) for etcdctl's input or output")
        }
    }
}

public struct EtcdctlResult: Sendable, CustomStringConvertible {
    public let arguments: [String]
    /// nil when etcdctl did not exit in time and was killed.
    public let status: Int32?
    public let stdout: String
    public let stderr: String

    public var succeeded: Bool { status == 0 }

    /// The last `Error: ...` line etcdctl printed (its own summary of the gRPC error).
    public var errorLine: String? {
        stderr.split(separator: "\n").last { $0.hasPrefix("Error:") }.map(String.init)
    }

    public var description: String {
        "`etcdctl \(arguments.joined(separator: " "))` → \(status.map { "exit \($0)" } ?? "killed after timeout")\n"
            + "stdout: \(stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n"
            + "stderr: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

public struct EtcdctlError: Error, CustomStringConvertible {
    public let message: String
    public let result: EtcdctlResult
    public var description: String { "\(message): \(result)" }
}
