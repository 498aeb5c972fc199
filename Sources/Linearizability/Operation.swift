extension Linearizability {
    /// One client request against a single key, as recorded by a robustness test.
    ///
    /// Every operation touches exactly one key. That is what lets the checker split a
    /// history by key and check each part on its own (P-compositionality): a history is
    /// linearizable exactly when every key's sub-history is.
    ///
    /// Nested in `Linearizability` because Foundation also declares an `Operation`: in a file
    /// importing both, the top-level name would be ambiguous, and since the module and the enum
    /// share a name, qualifying it with the module would not help.
    public struct Operation: Sendable, Codable, Equatable {
        /// What the client asked for.
        public enum Input: Sendable, Codable, Equatable {
            /// Set the key to `value`.
            case put(value: String)
            /// Read the key.
            case get
            /// Delete the key.
            case delete
            /// An etcd transaction: if the key's value equals `expected` then put `new`.
            /// `expected == nil` compares against an absent key (etcd's `create_revision == 0`).
            case compareAndSwap(expected: String?, new: String)
        }

        /// What the server answered. Revisions are recorded so that the writes a history made
        /// can be derived from it (see `WriteRecord`); the linearizability model ignores them.
        public enum Output: Sendable, Codable, Equatable {
            /// The put took effect at `revision`.
            case put(revision: Int64)
            /// The value read; nil when the key was absent.
            case get(value: String?)
            /// How many keys were deleted (0 or 1), and the response header's revision.
            case delete(deleted: Int64, revision: Int64)
            /// Whether the compare held and the put was done, and the response header's revision.
            case compareAndSwap(succeeded: Bool, revision: Int64)
        }

        /// Which client issued the request; used only to make reports readable.
        public var client: Int
        public var key: String
        public var input: Input
        /// nil when the outcome is unknown (the call timed out or its connection died): the
        /// request may or may not have taken effect, at any time after `invokeNanos`.
        public var output: Output?
        /// Monotonic clock reading when the request was sent.
        public var invokeNanos: UInt64
        /// Monotonic clock reading when the answer arrived; nil when there was none.
        /// An operation with an unknown outcome is treated as completing at +infinity
        /// whatever this says.
        public var completeNanos: UInt64?

        public init(
            client: Int,
            key: String,
            input: Input,
            output: Output?,
            invokeNanos: UInt64,
            completeNanos: UInt64?
        ) {
            self.client = client
            self.key = key
            self.input = input
            self.output = output
            self.invokeNanos = invokeNanos
            self.completeNanos = completeNanos
        }
    }
}
