/// One event a watcher received.
public struct WatchEvent: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case put
        case delete
    }

    /// The revision of the write (its mod_revision); all events of one transaction share it.
    public var revision: Int64
    public var key: String
    public var kind: Kind
    /// The value put; ignored for deletes.
    public var value: String?

    public init(revision: Int64, key: String, kind: Kind, value: String?) {
        self.revision = revision
        self.key = key
        self.kind = kind
        self.value = value
    }
}
