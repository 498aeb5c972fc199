import Foundation

/// Faults compiled into every build and switched on only by the `CAIRN_FAILPOINTS` environment
/// variable (comma-separated names), for the robustness suite to prove its checkers can fail.
/// A server started with any logs them as a warning; an unknown name stops it from starting.
public enum Failpoint: String, CaseIterable, Sendable {
    /// Linearizable reads are answered from the member's own state without raft's ReadIndex,
    /// as a deliberately broken build: a lagging follower then serves stale values.
    case skipReadIndex = "skip-read-index"

    public static let environmentVariable = "CAIRN_FAILPOINTS"

    /// The failpoints named in `text`; throws naming the first unknown one.
    public static func parse(_ text: String) throws(FailpointError) -> Set<Failpoint> {
        var names = Set<Failpoint>()
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let failpoint = Failpoint(rawValue: name) else { throw FailpointError(name: name) }
            names.insert(failpoint)
        }
        return names
    }

    /// The failpoints `CAIRN_FAILPOINTS` names in this process's environment.
    public static func fromEnvironment() throws(FailpointError) -> Set<Failpoint> {
        try parse(ProcessInfo.processInfo.environment[environmentVariable] ?? "")
    }

    /// The failpoints this process was started with (none when the variable is unset or invalid;
    /// the server refuses to start with an invalid one).
    public static let active: Set<Failpoint> = (try? fromEnvironment()) ?? []

    public var isActive: Bool { Self.active.contains(self) }
}

public struct FailpointError: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "\(Failpoint.environmentVariable) names an unknown failpoint '\(name)'; known: "
            + Failpoint.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
