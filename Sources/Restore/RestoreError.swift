/// A restore that could not run or did not finish. `code` is stable for scripts; `message`
/// says what was wrong, where, and what to do. A failed restore leaves the target as it was.
public struct RestoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The flags do not describe a restorable member.
        case invalidOptions
        /// The target data-dir already holds something.
        case targetNotEmpty
        /// The snapshot failed a check or is not a snapshot at all.
        case invalidSnapshot
        /// Reading or writing files failed.
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
