/// A lease as the backend keeps it: expiry is the server's business (only the leader revokes,
/// through the log), so only the granted TTL is persisted.
public struct LeaseRecord: Sendable, Hashable {
    public var id: Int64
    public var ttlSeconds: Int64

    public init(id: Int64, ttlSeconds: Int64) {
        self.id = id
        self.ttlSeconds = ttlSeconds
    }

    var encodedID: [UInt8] { Self.encode(id: id) }

    static func encode(id: Int64) -> [UInt8] {
        withUnsafeBytes(of: UInt64(bitPattern: id).bigEndian) { Array($0) }
    }

    var encodedValue: [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.write(ttlSeconds)
        return writer.bytes
    }

    init?(id: Int64, encodedValue: [UInt8]) {
        let ttl: Int64? = encodedValue.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard let ttl = reader.readInt64(), reader.isAtEnd else { return nil }
            return ttl
        }
        guard let ttl else { return nil }
        self.init(id: id, ttlSeconds: ttl)
    }
}
