/// A failure reading a bbolt database file.
///
/// `code` is stable for programs to branch on; `message` is for the operator and names the file
/// and, for structural damage, the page id and byte offset where the reader gave up.
public struct BoltError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// The file is not a bbolt database at all (empty, garbage, no meta page magic).
        case notBolt
        /// The file is a bbolt database but its structure is damaged or truncated.
        case corrupt
        /// A bucket the caller asked for does not exist.
        case missingBucket
        /// The operating system refused an operation (open, stat, mmap), or the file was closed.
        case io
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
