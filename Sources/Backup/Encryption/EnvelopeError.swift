/// A failure to read, write or authenticate an encrypted snapshot, or to load a key file.
///
/// The `message` is written for an operator: it says what failed, where (path, frame, byte
/// offset) and, when there is one, what to do. `code` is stable so callers and scripts can
/// branch on the kind of failure without parsing text.
public struct EnvelopeError: Error, CustomStringConvertible, Sendable {
    /// A stable identifier for the kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { rawValue }

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The key (or key file) is missing, unreadable, too permissive or malformed.
        public static let invalidKey = Code("invalid-key")
        /// The input does not start with the envelope magic.
        public static let notEncrypted = Code("not-encrypted")
        /// The header is malformed or from a newer, unsupported format version.
        public static let invalidHeader = Code("invalid-header")
        /// The header names a different key than the one supplied.
        public static let wrongKey = Code("wrong-key")
        /// A frame failed GCM authentication or declared an impossible length.
        public static let corrupt = Code("corrupt")
        /// The input ended before the final frame.
        public static let truncated = Code("truncated")
        /// Bytes follow the final frame.
        public static let trailingData = Code("trailing-data")
        /// The writer or reader was used after `finish()` or after an earlier failure.
        public static let misuse = Code("misuse")
        /// libcrypto reported an internal failure (allocation, RNG, cipher setup).
        public static let crypto = Code("crypto")
        /// A file could not be opened or read.
        public static let io = Code("io")
    }

    public let code: Code
    public let message: String
    /// Byte offset in the encrypted stream where the problem was detected, when it applies.
    public let offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}
