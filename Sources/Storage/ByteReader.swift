/// Reads what ``ByteWriter`` wrote, refusing to read past the end: a truncated or garbled
/// value yields `nil` instead of a crash, so callers can report where the damage is.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func readInt64() -> Int64? { readUInt64().map { Int64(bitPattern: $0) } }

    mutating func readBool() -> Bool? {
        guard let byte = readUInt8(), byte <= 1 else { return nil }
        return byte == 1
    }

    mutating func readBlob() -> [UInt8]? {
        guard let count = readUInt32(), remaining >= Int(count) else { return nil }
        return readRaw(Int(count))
    }

    mutating func readString() -> String? {
        readBlob().map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func readRaw(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
    }
}
