/// A storage failure with a stable ``code`` for programs and a ``message`` for operators that
/// says what failed and where (segment file and offset, key, revision).
///
/// Where the server hands an error straight to an etcd client, the message is etcd's exact
/// text, because clients match on it.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable error kind; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String

        private init(_ name: String) { self.name = name }

        /// A read asked for a revision below the compact revision.
        public static let compacted = Code("compacted")
        /// A read asked for a revision above the current revision.
        public static let futureRevision = Code("futureRevision")
        /// The backend quota is exhausted; the server raises etcd's NOSPACE alarm.
        public static let noSpace = Code("noSpace")
        /// A put or revoke named a lease that does not exist.
        public static let leaseNotFound = Code("leaseNotFound")
        /// A grant named a lease that already exists.
        public static let leaseExists = Code("leaseExists")
        /// A put with `ignoreValue` or `ignoreLease` named a key that does not exist.
        public static let keyNotFound = Code("keyNotFound")
        /// A request combined options that exclude each other.
        public static let invalidArgument = Code("invalidArgument")
        /// A key is longer than the backend can index.
        public static let keyTooLarge = Code("keyTooLarge")
        /// A write-ahead log record failed its checksum or structure checks.
        public static let walCorrupt = Code("walCorrupt")
        /// A file operation failed (open, write, sync, rename).
        public static let io = Code("io")
        /// LMDB reported an error.
        public static let backend = Code("backend")
        /// The store or log was already closed, or failed earlier and refuses further writes.
        public static let closed = Code("closed")

        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    static let compactedMessage = "etcdserver: mvcc: required revision has been compacted"
    static let futureRevisionMessage = "etcdserver: mvcc: required revision is a future revision"
    static let noSpaceMessage = "etcdserver: mvcc: database space exceeded"

    static let compacted = StorageError(.compacted, compactedMessage)
    static let futureRevision = StorageError(.futureRevision, futureRevisionMessage)
    public static let noSpace = StorageError(.noSpace, noSpaceMessage)
    static let leaseNotFound = StorageError(.leaseNotFound, "etcdserver: requested lease not found")
    static let leaseExists = StorageError(.leaseExists, "etcdserver: lease already exists")
    static let keyNotFound = StorageError(.keyNotFound, "etcdserver: key not found")
    static let valueProvided = StorageError(.invalidArgument, "etcdserver: value is provided")
    static let leaseProvided = StorageError(.invalidArgument, "etcdserver: lease is provided")
}
