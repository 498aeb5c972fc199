/// A record of the `kv` database: a key version, or a tombstone left by a delete (which keeps
/// only the key and the delete's revision, like etcd's delete events).
struct StoredRecord: Sendable, Hashable {
    var keyValue: KeyValue
    var isTombstone: Bool

    private static let formatVersion: UInt8 = 1

    var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 48 + keyValue.key.count + keyValue.value.count)
        writer.write(Self.formatVersion)
        writer.write(isTombstone)
        writer.writeBlob(keyValue.key)
        writer.write(keyValue.createRevision)
        writer.write(keyValue.modRevision)
        writer.write(keyValue.version)
        writer.write(keyValue.lease)
        writer.writeBlob(keyValue.value)
        return writer.bytes
    }

    init(keyValue: KeyValue, isTombstone: Bool) {
        self.keyValue = keyValue
        self.isTombstone = isTombstone
    }

    /// `nil` when the bytes are not a record this version wrote.
    init?(decoding bytes: [UInt8]) {
        let decoded: StoredRecord? = bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard reader.readUInt8() == Self.formatVersion,
                let tombstone = reader.readBool(),
                let key = reader.readBlob(),
                let create = reader.readInt64(),
                let mod = reader.readInt64(),
                let version = reader.readInt64(),
                let lease = reader.readInt64(),
                let value = reader.readBlob(),
                reader.isAtEnd
            else { return nil }
            return StoredRecord(
                keyValue: KeyValue(
                    key: key, createRevision: create, modRevision: mod, version: version, value: value, lease: lease),
                isTombstone: tombstone)
        }
        guard let decoded else { return nil }
        self = decoded
    }
}
