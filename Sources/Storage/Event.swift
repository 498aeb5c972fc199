/// A change in the store's history, as a watcher receives it.
public struct Event: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case put, delete
    }

    public var kind: Kind
    /// The new version; for a delete, the key and the delete's revision as `modRevision`.
    public var kv: KeyValue
    /// The version before this change, when asked for and still in the history.
    public var prevKV: KeyValue?

    public init(kind: Kind, kv: KeyValue, prevKV: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.prevKV = prevKV
    }
}
