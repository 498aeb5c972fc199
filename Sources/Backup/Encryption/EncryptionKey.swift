/// A 256-bit master key for snapshot encryption.
///
/// The key never encrypts data directly: each file derives its own data key from it (see
/// `EnvelopeWriter`). Copies of the value share one buffer that is wiped when the last copy
/// goes away.
public struct EncryptionKey: Sendable {
    public static let byteCount = 32

    let secret: SecretBytes
    /// First 8 bytes of SHA-256("cairn-key-id" ‖ key); stored raw in every envelope header.
    let fingerprintBytes: [UInt8]

    /// A short, printable key id: the first 16 hex characters of SHA-256("cairn-key-id" ‖ key).
    ///
    /// It can be logged and stored next to snapshots without revealing the key, and lets a
    /// reader name the right key instead of failing with a bare authentication error.
    public var fingerprint: String { hexString(fingerprintBytes) }

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw EnvelopeError(
                .invalidKey,
                "an encryption key must be exactly \(Self.byteCount) bytes, got \(bytes.count)")
        }
        secret = SecretBytes(count: Self.byteCount) { storage in
            storage.copyBytes(from: bytes)
        }
        fingerprintBytes = try secret.withUnsafeBytes { key in
            let label = Array("cairn-key-id".utf8)
            return try label.withUnsafeBytes { labelBytes in
                Array(try LibCrypto.sha256([labelBytes, key]).prefix(8))
            }
        }
    }

    /// Loads a key file holding either exactly 32 raw bytes or 64 hex characters with optional
    /// surrounding whitespace (what `openssl rand -hex 32 > key` writes).
    ///
    /// Refuses a file that group or others may read: a snapshot key that leaks defeats the
    /// encryption, so a permissive mode is treated as a configuration error, not a warning.
    public static func load(path: String) throws -> EncryptionKey {
        // Large enough for 64 hex characters with generous whitespace around them.
        let maxByteCount = 4096
        var file = try FileReading.readPrefix(path: path, maxByteCount: maxByteCount)
        defer { cleanse(&file.bytes) }

        if file.mode & 0o077 != 0 {
            throw EnvelopeError(
                .invalidKey,
                "key file \(path) has mode \(octal(file.mode)), which lets group or others "
                    + "read it; restrict it with `chmod 600 \(path)`")
        }
        if file.hasMore {
            throw EnvelopeError(
                .invalidKey,
                "key file \(path) is larger than \(maxByteCount) bytes; \(expectedContents)")
        }
        var keyBytes = try parse(file.bytes, path: path)
        defer { cleanse(&keyBytes) }
        return try EncryptionKey(bytes: keyBytes)
    }

    private static let expectedContents =
        "expected exactly 32 raw bytes or 64 hex characters (as written by `openssl rand -hex 32`)"

    /// Decodes the contents of a key file; see `load(path:)` for the accepted forms.
    static func parse(_ contents: [UInt8], path: String) throws -> [UInt8] {
        if contents.count == byteCount {
            // 32 bytes that are all hex digits are almost surely a hex-encoded 16-byte key
            // written without a newline (random bytes look like this with probability ~1e-34),
            // so refuse them rather than silently use a 128-bit key as raw bytes.
            if contents.allSatisfy({ hexValue($0) != nil }) {
                throw EnvelopeError(
                    .invalidKey,
                    "key file \(path) holds 32 hex characters, which is a 16-byte key; "
                        + expectedContents)
            }
            return contents
        }
        let trimmed = contents.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed()
        let text = Array(trimmed)
        guard text.count == 2 * byteCount else {
            throw EnvelopeError(
                .invalidKey,
                "key file \(path) holds \(contents.count) bytes (\(text.count) without surrounding "
                    + "whitespace); \(expectedContents)")
        }
        var key = [UInt8](repeating: 0, count: byteCount)
        for index in 0..<byteCount {
            guard let high = hexValue(text[2 * index]), let low = hexValue(text[2 * index + 1]) else {
                cleanse(&key)
                let position = hexValue(text[2 * index]) == nil ? 2 * index : 2 * index + 1
                throw EnvelopeError(
                    .invalidKey,
                    "key file \(path) has a non-hex character at position \(position) of its "
                        + "64-character key; \(expectedContents)")
            }
            key[index] = high << 4 | low
        }
        return key
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isWhitespace(_ character: UInt8) -> Bool {
        character == UInt8(ascii: " ") || character == UInt8(ascii: "\t")
            || character == UInt8(ascii: "\n") || character == UInt8(ascii: "\r")
    }

    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
