/// An error raised by the raft core. `code` is stable; `message` is for people.
public struct RaftError: Error, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A proposal was not accepted: no leader known, a leadership transfer in flight, or
        /// this node is not (or no longer) a member. Retry after the leader settles.
        case proposalDropped
        /// The requested index precedes the first entry still held in the log.
        case compacted
        /// The requested index is past the last entry in storage.
        case unavailable
        /// The snapshot is being produced; the leader will ask again.
        case snapshotTemporarilyUnavailable
        /// A snapshot older than the one already held.
        case snapshotOutOfDate
        /// Configuration rejected by ``RaftConfig/validate()``.
        case invalidConfig
        /// A message that makes no sense for this node (for example a response from itself).
        case invalidMessage
        /// Entry data of kind `.confChange` that does not decode.
        case malformedConfChange
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "raft: \(message) (\(code.rawValue))" }
}
