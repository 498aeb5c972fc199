/// Appends fixed-width little-endian integers and length-prefixed byte strings: the one
/// encoding shared by WAL records and backend values, so both decode with ``ByteReader``.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    mutating func write(_ value: Bool) { write(value ? UInt8(1) : 0) }

    /// A 32-bit length, then the bytes.
    mutating func writeBlob(_ blob: some Collection<UInt8>) {
        write(UInt32(blob.count))
        bytes.append(contentsOf: blob)
    }

    mutating func writeString(_ string: String) { writeBlob(Array(string.utf8)) }

    /// Appends raw bytes without a length.
    mutating func writeRaw(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }
}
