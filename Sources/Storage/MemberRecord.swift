/// A cluster member as the backend keeps it, so membership survives restarts and snapshots.
public struct MemberRecord: Sendable, Hashable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [String]
    public var clientURLs: [String]
    public var isLearner: Bool

    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String] = [], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }

    var encodedID: [UInt8] { Self.encode(id: id) }

    static func encode(id: UInt64) -> [UInt8] { withUnsafeBytes(of: id.bigEndian) { Array($0) } }

    var encodedValue: [UInt8] {
        var writer = ByteWriter()
        writer.writeString(name)
        writer.write(UInt32(peerURLs.count))
        peerURLs.forEach { writer.writeString($0) }
        writer.write(UInt32(clientURLs.count))
        clientURLs.forEach { writer.writeString($0) }
        writer.write(isLearner)
        return writer.bytes
    }

    init?(id: UInt64, encodedValue: [UInt8]) {
        let decoded: MemberRecord? = encodedValue.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            func strings() -> [String]? {
                guard let count = reader.readUInt32(), Int(count) <= reader.remaining else { return nil }
                var result: [String] = []
                for _ in 0..<count {
                    guard let string = reader.readString() else { return nil }
                    result.append(string)
                }
                return result
            }
            guard let name = reader.readString(), let peers = strings(), let clients = strings(),
                let learner = reader.readBool(), reader.isAtEnd
            else { return nil }
            return MemberRecord(id: id, name: name, peerURLs: peers, clientURLs: clients, isLearner: learner)
        }
        guard let decoded else { return nil }
        self = decoded
    }
}
