/// An active alarm: which member raised it and of what kind. The kinds carry etcd's
/// `AlarmType` numbers so they mean the same on the wire and on disk.
public struct AlarmRecord: Sendable, Hashable {
    public enum Kind: Int32, Sendable, Hashable {
        /// The backend reached its quota: writes that need space are refused until disarmed.
        case noSpace = 1
        /// A member's data disagrees with the others'.
        case corrupt = 2
    }

    public var memberID: UInt64
    public var kind: Kind

    public init(memberID: UInt64, kind: Kind) {
        self.memberID = memberID
        self.kind = kind
    }

    /// Big-endian, so alarms list in member order.
    var encodedKey: [UInt8] {
        withUnsafeBytes(of: memberID.bigEndian) { Array($0) }
            + withUnsafeBytes(of: UInt32(bitPattern: kind.rawValue).bigEndian) { Array($0) }
    }

    init?(encodedKey bytes: [UInt8]) {
        guard bytes.count == 12 else { return nil }
        let memberID = bytes[..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let raw = bytes[8...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let kind = Kind(rawValue: Int32(bitPattern: raw)) else { return nil }
        self.init(memberID: memberID, kind: kind)
    }
}
