/// File-level questions about envelopes that need no key: is this file encrypted, and with
/// which key.
public enum Envelope {
    /// True when the file at `path` starts with the envelope magic. False for plain
    /// snapshots and for files that cannot be read.
    public static func isEncrypted(path: String) -> Bool {
        guard let prefix = try? FileReading.readPrefix(path: path, maxByteCount: EnvelopeHeader.magic.count)
        else { return false }
        return prefix.bytes == EnvelopeHeader.magic
    }

    /// The fingerprint of the key the file was encrypted with (16 hex characters, comparable
    /// with `EncryptionKey.fingerprint`), or nil when the file is not an envelope.
    ///
    /// Throws when the file cannot be read or starts with the magic but has a truncated or
    /// unsupported header.
    public static func keyFingerprint(path: String) throws -> String? {
        let prefix = try FileReading.readPrefix(path: path, maxByteCount: EnvelopeHeader.byteCount)
        guard prefix.bytes.starts(with: EnvelopeHeader.magic) else { return nil }
        guard prefix.bytes.count == EnvelopeHeader.byteCount else {
            throw EnvelopeError(
                .truncated,
                "\(path) is truncated: it ends at byte \(prefix.bytes.count), inside the "
                    + "\(EnvelopeHeader.byteCount)-byte envelope header",
                offset: prefix.bytes.count)
        }
        do {
            return hexString(try EnvelopeHeader.parse(prefix.bytes).keyFingerprint)
        } catch let error as EnvelopeError {
            throw EnvelopeError(error.code, "\(path): \(error.message)", offset: error.offset)
        }
    }
}
