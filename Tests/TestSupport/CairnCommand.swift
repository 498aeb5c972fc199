import Foundation

/// Runs the built `cairn` CLI (not the server) to completion, as an operator would, with its
/// output captured in files under a scratch directory.
public enum CairnCommand {
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `cairn <arguments>`; throws when it does not finish within `timeout`.
    public static func run(_ arguments: [String], scratchDirectory: String, environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)) throws -> Run
    {
        try run(executable: BuildProducts.executable("cairn"), arguments, scratchDirectory: scratchDirectory,
            environment: environment, timeout: timeout)
    }

    /// Runs any program the same way (`curl` for the metrics endpoints, say).
    public static func run(executable: String, _ arguments: [String], scratchDirectory: String,
        environment: [String: String]? = nil, timeout: Duration = .seconds(60)) throws -> Run
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stem = scratchDirectory + "/cairn-\(UUID().uuidString)"
        for path in [stem + ".out", stem + ".err"] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw ServerBinaryError(message: "cannot create \(path) for \(executable)'s output")
        }
        let handles = [FileHandle(forWritingAtPath: stem + ".out"), FileHandle(forWritingAtPath: stem + ".err")]
        defer { handles.forEach { try? $0?.close() } }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handles[0]
        process.standardError = handles[1]
        let exited = try ProcessExit.run(process)
        guard exited.wait(upTo: timeout) else {
            process.terminate()
            throw ServerBinaryError(message: "\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeout)")
        }
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        defer { for path in [stem + ".out", stem + ".err"] { try? FileManager.default.removeItem(atPath: path) } }
        return Run(status: process.terminationStatus, stdout: read(stem + ".out"), stderr: read(stem + ".err"))
    }
}
