/// A point in the store's history: `main` is the store revision of a write transaction, `sub`
/// numbers the changes inside it. Encoded as 16 big-endian bytes, so LMDB's byte order is
/// revision order.
struct Revision: Hashable, Sendable, Comparable {
    var main: Int64
    var sub: Int64

    static let encodedSize = 16

    var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.encodedSize)
        withUnsafeBytes(of: UInt64(bitPattern: main).bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(bitPattern: sub).bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    init(main: Int64, sub: Int64 = 0) {
        self.main = main
        self.sub = sub
    }

    /// Decodes the first 16 bytes of `bytes`.
    init?(encoded bytes: some Collection<UInt8>) {
        guard bytes.count >= Self.encodedSize else { return nil }
        var main: UInt64 = 0
        var sub: UInt64 = 0
        for (offset, byte) in bytes.prefix(Self.encodedSize).enumerated() {
            if offset < 8 {
                main = main << 8 | UInt64(byte)
            } else {
                sub = sub << 8 | UInt64(byte)
            }
        }
        self.main = Int64(bitPattern: main)
        self.sub = Int64(bitPattern: sub)
    }

    static func < (lhs: Revision, rhs: Revision) -> Bool {
        (lhs.main, lhs.sub) < (rhs.main, rhs.sub)
    }
}
