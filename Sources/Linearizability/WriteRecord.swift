/// A write the store is known to have made, from a successful response: what every watcher
/// of the key should eventually see.
public struct WriteRecord: Sendable, Codable, Hashable {
    public var revision: Int64
    public var key: String
    public var kind: WatchEvent.Kind
    /// The value put; nil for deletes.
    public var value: String?

    public init(revision: Int64, key: String, kind: WatchEvent.Kind, value: String?) {
        self.revision = revision
        self.key = key
        self.kind = kind
        self.value = value
    }

    /// The write `operation`'s response proves happened: a put, a compare-and-swap that
    /// succeeded, or a delete that deleted the key. Nil for anything else, including
    /// writes whose outcome is unknown, which may or may not show up in watches.
    public init?(_ operation: Linearizability.Operation) {
        switch (operation.input, operation.output) {
        case (.put(let value), .put(let revision)?):
            self.init(revision: revision, key: operation.key, kind: .put, value: value)
        case (.compareAndSwap(_, let new), .compareAndSwap(true, let revision)?):
            self.init(revision: revision, key: operation.key, kind: .put, value: new)
        case (.delete, .delete(1, let revision)?):
            self.init(revision: revision, key: operation.key, kind: .delete, value: nil)
        default:
            return nil
        }
    }
}
