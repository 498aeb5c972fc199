/// A lease as the backend keeps it: expiry is the server's business (only the leader revokes,
/// through the log), so the granted TTL is persisted, and the remaining TTL the leader last
/// checkpointed through the log, which a new leader starts from.
public struct LeaseRecord: Sendable, Hashable {
    public var id: Int64
    public var ttlSeconds: Int64
    /// The remaining TTL at the leader's last checkpoint; 0 when none (the full TTL holds).
    public var remainingSeconds: Int64

    public init(id: Int64, ttlSeconds: Int64, remainingSeconds: Int64 = 0) {
        self.id = id
        self.ttlSeconds = ttlSeconds
        self.remainingSeconds = remainingSeconds
    }

    /// What a new leader gives the lease: the checkpointed remainder, or the full TTL.
    public var startingSeconds: Int64 { remainingSeconds > 0 ? min(remainingSeconds, ttlSeconds) : ttlSeconds }

    var encodedID: [UInt8] { Self.encode(id: id) }

    static func encode(id: Int64) -> [UInt8] {
        withUnsafeBytes(of: UInt64(bitPattern: id).bigEndian) { Array($0) }
    }

    /// The TTL, then the checkpointed remainder (older records have the TTL alone).
    var encodedValue: [UInt8] {
        var writer = ByteWriter(capacity: 16)
        writer.write(ttlSeconds)
        writer.write(remainingSeconds)
        return writer.bytes
    }

    init?(id: Int64, encodedValue: [UInt8]) {
        let decoded: (Int64, Int64)? = encodedValue.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard let ttl = reader.readInt64() else { return nil }
            if reader.isAtEnd { return (ttl, 0) }
            guard let remaining = reader.readInt64(), reader.isAtEnd else { return nil }
            return (ttl, remaining)
        }
        guard let decoded else { return nil }
        self.init(id: id, ttlSeconds: decoded.0, remainingSeconds: decoded.1)
    }
}
