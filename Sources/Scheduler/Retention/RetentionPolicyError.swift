/// A retention policy that cannot be applied.
///
/// `code` is stable for programs to branch on; `message` is for the operator and names the rule
/// at fault, its value, and what to write instead.
public struct RetentionPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// A rule asks to keep a negative number of snapshots.
        case negativeCount
    }

    /// The stable failure kind.
    public var code: Code
    /// What failed and where, for a human.
    public var message: String

    /// Creates an error; prefer messages that say what failed, where, and what to do.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
