import Foundation

/// The server a process-level test drives: the `cairn` built next to the test bundle (run as
/// `cairn server`), or an etcd binary for comparison. Both take etcd's flag names.
public struct ServerBinary: Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case cairn, etcd }

    public let kind: Kind
    public let executable: String

    /// Arguments before the flags: cairn's daemon is a subcommand, etcd's is the binary itself.
    public var leadingArguments: [String] { kind == .cairn ? ["server"] : [] }

    public var description: String { "\(kind) (\(executable))" }

    /// Reads `variable`: unset or `cairn` is the built cairn, `etcd` is the etcd on PATH
    /// (or /usr/bin/etcd), anything else is a path whose file name says which kind it is.
    /// Throws, never falls back, when the named binary is missing: a suite that silently ran
    /// against nothing would prove nothing.
    public static func resolve(environmentVariable variable: String) throws -> ServerBinary {
        let choice = ProcessInfo.processInfo.environment[variable] ?? ""
        switch choice {
        case "", "cairn":
            let path = BuildProducts.executable("cairn")
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ServerBinaryError(message: """
                    the cairn binary is missing at \(path): build it with the tests \
                    (`swift build --build-tests`), or set \(variable)=etcd to run this suite against etcd
                    """)
            }
            return ServerBinary(kind: .cairn, executable: path)
        case "etcd":
            guard let path = findInPath("etcd") ?? existing("/usr/bin/etcd") else {
                throw ServerBinaryError(message: """
                    \(variable)=etcd but no etcd binary is on PATH or at /usr/bin/etcd \
                    (Debian: apt-get install etcd-server)
                    """)
            }
            return ServerBinary(kind: .etcd, executable: path)
        default:
            guard FileManager.default.isExecutableFile(atPath: choice) else {
                throw ServerBinaryError(message: "\(variable)=\(choice) names no executable file")
            }
            let name = URL(fileURLWithPath: choice).lastPathComponent
            return ServerBinary(kind: name.hasPrefix("etcd") ? .etcd : .cairn, executable: choice)
        }
    }

    static func findInPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func existing(_ path: String) -> String? {
        FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}

public struct ServerBinaryError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}
