import Foundation

/// A copy of `manifest.json` at the very end of the archive, in a zstd skippable frame (which
/// every zstd decoder passes over), so `status` can read the manifest from the file's tail
/// instead of decompressing the whole database to reach the tar member. `verify` requires it
/// to be byte-for-byte the tar member.
///
/// Layout: skippable-frame magic 0x184D2A5C (little endian), payload length (u32 LE), then
/// the payload: the manifest JSON, its length (u32 LE) and the marker `CAIRNMF1`.
enum ManifestTrailer {
    static let magic: UInt32 = 0x184D_2A5C
    static let marker = Array("CAIRNMF1".utf8)
    static let footerBytes = 12

    static func encode(_ json: Data) -> [UInt8] {
        let payloadLength = UInt32(json.count + footerBytes)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + Int(payloadLength))
        withUnsafeBytes(of: magic.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: payloadLength.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: marker)
        return bytes
    }

    /// The manifest JSON from the tail of the file at `path`; nil when the file has no
    /// well-formed trailer.
    static func read(path: String) -> Data? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        guard let size = try? file.seekToEnd() else { return nil }
        return decode(size: size, at: { offset, count in
            guard (try? file.seek(toOffset: offset)) != nil, let data = try? file.read(upToCount: count), data.count == count
            else { return nil }
            return [UInt8](data)
        })
    }

    /// The manifest JSON from the end of `bytes` (the decrypted tail of an encrypted archive).
    static func decode(endOf bytes: [UInt8]) -> Data? {
        decode(size: UInt64(bytes.count), at: { offset, count in
            guard offset + UInt64(count) <= UInt64(bytes.count) else { return nil }
            return Array(bytes[Int(offset)..<Int(offset) + count])
        })
    }

    /// The trailer of a stream of `size` bytes whose bytes `at` reads.
    private static func decode(size: UInt64, at bytes: (UInt64, Int) -> [UInt8]?) -> Data? {
        guard size >= UInt64(8 + footerBytes) else { return nil }
        guard let footer = bytes(size - UInt64(footerBytes), footerBytes), Array(footer[4...]) == marker else {
            return nil
        }
        let jsonLength = UInt64(footer[0..<4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let frameLength = 8 + jsonLength + UInt64(footerBytes)
        guard jsonLength < 1 << 24, frameLength <= size,
            let header = bytes(size - frameLength, 8),
            header[0..<4].reversed().reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == magic,
            UInt64(header[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) == jsonLength + UInt64(footerBytes),
            let json = bytes(size - frameLength + 8, Int(jsonLength))
        else { return nil }
        return Data(json)
    }
}
