/// A single-step membership change. It is proposed with ``RaftNode/proposeConfChange(_:)``,
/// committed like any entry, and takes effect on each node when the application hands it to
/// ``RaftNode/applyConfChange(_:)``. Only one change may be pending at a time.
public struct ConfChange: Sendable, Hashable {
    public enum Kind: UInt8, Sendable, Hashable {
        /// Adds a voter, or promotes an existing learner to voter.
        case addNode = 0
        case removeNode = 1
        case addLearner = 2
    }

    public var kind: Kind
    public var nodeID: NodeID
    /// Opaque bytes for the application (etcd puts the member's URLs here).
    public var context: [UInt8]

    public init(kind: Kind, nodeID: NodeID, context: [UInt8] = []) {
        self.kind = kind
        self.nodeID = nodeID
        self.context = context
    }

    /// The bytes stored in a `.confChange` entry: kind (1 byte), node id (8 bytes, little
    /// endian), then the context.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [kind.rawValue]
        bytes.reserveCapacity(9 + context.count)
        withUnsafeBytes(of: nodeID.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: context)
        return bytes
    }

    /// Decodes the data of a `.confChange` entry.
    public init(decoding bytes: [UInt8]) throws(RaftError) {
        guard bytes.count >= 9, let kind = Kind(rawValue: bytes[0]) else {
            throw RaftError(.malformedConfChange, "conf change entry of \(bytes.count) bytes cannot be decoded")
        }
        var id: UInt64 = 0
        for (shift, byte) in bytes[1..<9].enumerated() { id |= UInt64(byte) << (8 * UInt64(shift)) }
        self.init(kind: kind, nodeID: id, context: Array(bytes[9...]))
    }
}
