/// The fixed 53-byte header at the start of every envelope (layout in FORMAT.md).
struct EnvelopeHeader: Equatable {
    static let magic: [UInt8] = Array("CAIRNENC".utf8)
    static let version: UInt8 = 1
    static let fingerprintByteCount = 8
    static let saltByteCount = 32
    /// magic 8 ‖ version 1 ‖ chunk size 4 ‖ key fingerprint 8 ‖ salt 32.
    static let byteCount = 8 + 1 + 4 + fingerprintByteCount + saltByteCount

    static let defaultChunkSize = 1 << 20
    /// Bounds the reader's plaintext buffer whatever a corrupt or hostile header claims.
    static let maxChunkSize = 64 << 20

    private static let versionOffset = 8
    private static let chunkSizeOffset = 9
    static let fingerprintOffset = 13
    private static let saltOffset = 21

    /// Plaintext bytes per non-final frame. The final frame holds fewer (possibly none).
    let chunkSize: Int
    let keyFingerprint: [UInt8]
    /// Random per file; the HKDF salt that makes each file's data key unique.
    let salt: [UInt8]

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.append(Self.version)
        bytes.append(contentsOf: littleEndianBytes(UInt32(chunkSize)))
        bytes.append(contentsOf: keyFingerprint)
        bytes.append(contentsOf: salt)
        assert(bytes.count == Self.byteCount)
        return bytes
    }

    /// True when `bytes` could be the start of an envelope (agrees with the magic so far).
    static func couldStartWithMagic(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(magic.count).elementsEqual(magic.prefix(min(bytes.count, magic.count)))
    }

    static func parse(_ bytes: [UInt8]) throws -> EnvelopeHeader {
        precondition(bytes.count == byteCount, "header parse needs exactly \(byteCount) bytes")
        guard couldStartWithMagic(bytes) else {
            throw EnvelopeError(
                .notEncrypted,
                "not an encrypted cairn snapshot: it does not start with the CAIRNENC magic",
                offset: 0)
        }
        let version = bytes[versionOffset]
        guard version == Self.version else {
            throw EnvelopeError(
                .invalidHeader,
                "unsupported envelope version \(version) at byte \(versionOffset); this build "
                    + "reads version \(Self.version)",
                offset: versionOffset)
        }
        let chunkSize = Int(readLittleEndianUInt32(bytes, at: chunkSizeOffset))
        guard (1...maxChunkSize).contains(chunkSize) else {
            throw EnvelopeError(
                .invalidHeader,
                "invalid chunk size \(chunkSize) at byte \(chunkSizeOffset) of the header; "
                    + "expected 1 to \(maxChunkSize) bytes",
                offset: chunkSizeOffset)
        }
        return EnvelopeHeader(
            chunkSize: chunkSize,
            keyFingerprint: Array(bytes[fingerprintOffset..<saltOffset]),
            salt: Array(bytes[saltOffset..<byteCount]))
    }
}

func littleEndianBytes(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

func littleEndianBytes(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

func readLittleEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { value, index in
        value | UInt32(bytes[offset + index]) << (8 * index)
    }
}
