/// The outcome of checking a history.
public struct CheckResult: Sendable, CustomStringConvertible {
    public enum Verdict: Sendable, Equatable {
        case linearizable
        /// At least one key is not linearizable; see `violations`.
        case violation
        /// No violation was found, but time ran out before every key was decided;
        /// see `undecidedKeys`.
        case unknown
    }

    public var verdict: Verdict
    /// One per key that is not linearizable, sorted by key.
    public var violations: [Violation]
    /// Keys whose check ran out of time, sorted.
    public var undecidedKeys: [String]
    /// How many keys (independent sub-histories) the history had.
    public var keyCount: Int

    public var description: String {
        switch verdict {
        case .linearizable:
            return "linearizable (\(keyCount) keys)"
        case .unknown:
            return "unknown: ran out of time on \(undecidedKeys.count) of \(keyCount) keys: \(undecidedKeys.joined(separator: ", "))"
        case .violation:
            return (["not linearizable: \(violations.count) of \(keyCount) keys"] + violations.map(\.description))
                .joined(separator: "\n")
        }
    }
}
