#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk format of one WAL segment file, `<sequence as 16 hex digits>.wal`:
///
/// - a header: magic `CAIRNWAL`, format version, sequence number, the index the segment's
///   first entry follows on from, the WAL's metadata, and a CRC-32C of all of that;
/// - frames: body length (u32), CRC-32C of the length and body (u32), body = type byte and
///   payload. Zeros follow the last frame (the file is preallocated);
/// - when full, a seal frame (type 4) naming the next sequence number, so replay can tell a
///   finished segment from one that lost its end.
///
/// Every new segment starts with the latest snapshot marker and hard state, so any suffix of
/// segments replays on its own once the segments before it are released.
struct WALSegment {
    struct Header: Hashable {
        var sequence: UInt64
        var firstIndex: UInt64
        var metadata: [UInt8]
    }

    /// How a scan of a segment ended.
    enum End: Hashable {
        /// A seal frame at `offset`; the next segment must follow.
        case sealed(offset: Int)
        /// Zeros (or the end of the file) at `offset`: where the next append goes.
        case open(offset: Int)
        /// A frame cut short by a crash starts at `offset`; everything from there on is
        /// unacknowledged and may be discarded.
        case torn(offset: Int)
    }

    static let magic = Array("CAIRNWAL".utf8)
    static let formatVersion: UInt32 = 1
    static let sealType: UInt8 = 4
    static let frameHeaderSize = 8
    /// A bound on one frame, so a garbled length cannot send replay past any sane size.
    static let maxBodyBytes = 1 << 28
    /// The unit a disk writes atomically at best: a torn write leaves whole sectors unwritten.
    static let sectorSize = 512

    static func fileName(sequence: UInt64) -> String {
        let hex = String(sequence, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".wal"
    }

    static func sequence(fromFileName name: String) -> UInt64? {
        guard name.hasSuffix(".wal"), name.count == 20 else { return nil }
        return UInt64(name.prefix(16), radix: 16)
    }

    static func encodeHeader(_ header: Header) -> [UInt8] {
        var writer = ByteWriter(capacity: 40 + header.metadata.count)
        writer.writeRaw(magic)
        writer.write(formatVersion)
        writer.write(header.sequence)
        writer.write(header.firstIndex)
        writer.writeBlob(header.metadata)
        writer.write(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    static func appendFrame(_ record: WALRecord, to buffer: inout [UInt8]) {
        appendFrame(type: record.type, payload: record.payload, to: &buffer)
    }

    /// Appends one frame to `buffer`.
    static func appendFrame(type: UInt8, payload: [UInt8], to buffer: inout [UInt8]) {
        let length = UInt32(1 + payload.count)
        let start = buffer.count
        withUnsafeBytes(of: length.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: [0, 0, 0, 0])
        buffer.append(type)
        buffer.append(contentsOf: payload)
        var crc = CRC32C()
        buffer.withUnsafeBytes { raw in
            crc.update(UnsafeRawBufferPointer(rebasing: raw[start..<start + 4]))
            crc.update(UnsafeRawBufferPointer(rebasing: raw[(start + 8)...]))
        }
        withUnsafeBytes(of: crc.value.littleEndian) { bytes in
            for offset in 0..<4 { buffer[start + 4 + offset] = bytes[offset] }
        }
    }

    static func sealFrame(nextSequence: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.write(nextSequence)
        var frame: [UInt8] = []
        appendFrame(type: sealType, payload: writer.bytes, to: &frame)
        return frame
    }

    /// Decodes the header and every frame of a segment's bytes, handing each record and its
    /// offset to `visit`. In the last segment a frame cut short by a crash ends the scan as
    /// ``End/torn(offset:)``; anything else that fails its checks, anywhere, is corruption.
    static func scan(
        _ bytes: [UInt8], path: String, isLast: Bool,
        visit: (WALRecord, Int) throws(StorageError) -> Void
    ) throws(StorageError) -> (header: Header, end: End) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try scan(raw, path: path, isLast: isLast, visit: visit) }
        }
        return try result.get()
    }

    private static func scan(
        _ raw: UnsafeRawBufferPointer, path: String, isLast: Bool,
        visit: (WALRecord, Int) throws(StorageError) -> Void
    ) throws(StorageError) -> (header: Header, end: End) {
        func corrupt(_ offset: Int, _ what: String) -> StorageError {
            StorageError(.walCorrupt, "WAL segment \(path) is corrupt at offset \(offset): \(what)")
        }
        var reader = ByteReader(raw)
        guard reader.readRaw(magic.count) == magic else { throw corrupt(0, "bad magic, not a cairn WAL segment") }
        guard let version = reader.readUInt32(), version == formatVersion else {
            throw corrupt(8, "unsupported format version")
        }
        guard let sequence = reader.readUInt64(), let firstIndex = reader.readUInt64(),
            let metadata = reader.readBlob()
        else { throw corrupt(reader.offset, "header cut short") }
        let headerEnd = reader.offset
        guard let storedCRC = reader.readUInt32(),
            storedCRC == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<headerEnd]))
        else { throw corrupt(headerEnd, "header checksum mismatch") }
        let header = Header(sequence: sequence, firstIndex: firstIndex, metadata: metadata)

        var offset = reader.offset
        while true {
            if offset + frameHeaderSize > raw.count {
                if allZero(raw, offset..<raw.count) { return (header, .open(offset: offset)) }
                if isLast { return (header, .torn(offset: offset)) }
                throw corrupt(offset, "frame header cut off by the end of the file")
            }
            let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            let storedFrameCRC = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
            if length == 0 && storedFrameCRC == 0 {
                if isLast { return (header, allZero(raw, offset..<raw.count) ? .open(offset: offset) : .torn(offset: offset)) }
                throw corrupt(offset, "the segment ends without a seal; the records after it are missing")
            }
            let frameEnd = offset + frameHeaderSize + length
            guard length > 0, length <= maxBodyBytes, frameEnd <= raw.count else {
                if isLast && (frameEnd > raw.count || hasZeroSector(raw, offset..<min(frameEnd, raw.count))) {
                    return (header, .torn(offset: offset))
                }
                throw corrupt(offset, "impossible frame length \(length)")
            }
            var crc = CRC32C()
            crc.update(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4]))
            crc.update(UnsafeRawBufferPointer(rebasing: raw[offset + frameHeaderSize..<frameEnd]))
            guard crc.value == storedFrameCRC else {
                if isLast && hasZeroSector(raw, offset..<frameEnd) { return (header, .torn(offset: offset)) }
                throw corrupt(offset, "record checksum mismatch (stored \(storedFrameCRC), computed \(crc.value))")
            }
            let type = raw[offset + frameHeaderSize]
            let payload = UnsafeRawBufferPointer(rebasing: raw[offset + frameHeaderSize + 1..<frameEnd])
            if type == sealType {
                var sealReader = ByteReader(payload)
                guard sealReader.readUInt64() == sequence + 1, sealReader.isAtEnd else {
                    throw corrupt(offset, "seal does not name the next segment")
                }
                return (header, .sealed(offset: offset))
            }
            guard let record = WALRecord(type: type, payload: payload) else {
                throw corrupt(offset, "record of type \(type) does not decode")
            }
            try visit(record, offset)
            offset = frameEnd
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 64 << 10)

    /// `memcmp` against a zero block: the preallocated tail of a segment is tens of megabytes,
    /// and every open checks it.
    private static func allZero(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        zeros.withUnsafeBytes { zeroBlock in
            var start = range.lowerBound
            while start < range.upperBound {
                let count = min(zeroBlock.count, range.upperBound - start)
                if memcmp(raw.baseAddress! + start, zeroBlock.baseAddress!, count) != 0 { return false }
                start += count
            }
            return true
        }
    }

    /// etcd's torn-write test: a crash mid-write leaves whole sectors of a frame unwritten
    /// (zero in a preallocated file), which a corrupted but fully written frame does not.
    /// Pieces shorter than 16 bytes are too likely to be zero by chance to count.
    private static func hasZeroSector(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min((start / sectorSize + 1) * sectorSize, range.upperBound)
            if end - start >= 16, allZero(raw, start..<end) { return true }
            start = end
        }
        return false
    }
}
