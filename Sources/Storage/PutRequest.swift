/// A write of one key, with etcd's `PutRequest` options.
public struct PutRequest: Sendable, Hashable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// The lease to attach the key to, 0 for none; it must exist.
    public var lease: Int64
    /// Return the key's previous version.
    public var prevKV: Bool
    /// Keep the current value (the key must exist, and `value` must be empty).
    public var ignoreValue: Bool
    /// Keep the current lease (the key must exist, and `lease` must be 0).
    public var ignoreLease: Bool

    public init(
        key: [UInt8], value: [UInt8] = [], lease: Int64 = 0, prevKV: Bool = false,
        ignoreValue: Bool = false, ignoreLease: Bool = false
    ) {
        self.key = key
        self.value = value
        self.lease = lease
        self.prevKV = prevKV
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

/// The answer to a ``PutRequest``.
public struct PutResponse: Sendable, Hashable {
    /// The store revision after the write (the response header's revision).
    public var revision: Int64
    /// The previous version when requested and the key existed.
    public var prevKV: KeyValue?

    public init(revision: Int64, prevKV: KeyValue?) {
        self.revision = revision
        self.prevKV = prevKV
    }
}
