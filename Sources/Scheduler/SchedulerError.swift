/// A scheduled-snapshot operation that failed. `code` is stable for scripts; `message` says
/// what failed, where, and what to do.
public struct SchedulerError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The flags do not describe a schedule or a policy.
        case invalidOptions
        /// Another scheduler holds the directory.
        case locked
        /// The catalog cannot be read or written.
        case catalog
        /// Taking, verifying or pruning a snapshot failed.
        case snapshot
        case io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
