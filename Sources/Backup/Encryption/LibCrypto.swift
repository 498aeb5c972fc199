import CCrypto

/// Thin, throwing wrappers over the few libcrypto primitives the envelope needs.
enum LibCrypto {
    static let sha256ByteCount = 32

    /// SHA-256 over the concatenation of `parts`, so callers need not build a joined copy of
    /// key material just to hash it.
    static func sha256(_ parts: [UnsafeRawBufferPointer]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else {
            throw EnvelopeError(.crypto, "libcrypto could not allocate a digest context")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            throw EnvelopeError(.crypto, "libcrypto could not initialise SHA-256")
        }
        for part in parts where part.count > 0 {
            guard EVP_DigestUpdate(context, part.baseAddress, part.count) == 1 else {
                throw EnvelopeError(.crypto, "libcrypto failed while hashing")
            }
        }
        var digest = [UInt8](repeating: 0, count: sha256ByteCount)
        var length: UInt32 = 0
        let status = digest.withUnsafeMutableBufferPointer {
            EVP_DigestFinal_ex(context, $0.baseAddress, &length)
        }
        guard status == 1, Int(length) == sha256ByteCount else {
            throw EnvelopeError(.crypto, "libcrypto failed to finish SHA-256")
        }
        return digest
    }

    /// HKDF-SHA256 (RFC 5869), extract-then-expand, producing `count` bytes of key material.
    static func hkdfSHA256(
        key: UnsafeRawBufferPointer,
        salt: UnsafeRawBufferPointer,
        info: UnsafeRawBufferPointer,
        count: Int
    ) throws -> SecretBytes {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil) else {
            throw EnvelopeError(.crypto, "libcrypto could not allocate an HKDF context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        // One joined buffer with a spare trailing byte gives every input a non-null pointer,
        // even an empty salt or info, which libcrypto requires.
        var inputs = Array(key) + Array(salt) + Array(info) + [0]
        defer { cleanse(&inputs) }
        let configured = inputs.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return EVP_PKEY_derive_init(context) == 1
                && EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) == 1
                && EVP_PKEY_CTX_set1_hkdf_key(context, base, Int32(key.count)) == 1
                && EVP_PKEY_CTX_set1_hkdf_salt(context, base + key.count, Int32(salt.count)) == 1
                && EVP_PKEY_CTX_add1_hkdf_info(
                    context, base + key.count + salt.count, Int32(info.count)) == 1
        }
        guard configured else {
            throw EnvelopeError(.crypto, "libcrypto could not set up HKDF-SHA256")
        }
        return try SecretBytes(count: count) { output in
            var length = output.count
            let status = EVP_PKEY_derive(
                context, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
            guard status == 1, length == count else {
                throw EnvelopeError(.crypto, "libcrypto failed to derive a key with HKDF-SHA256")
            }
        }
    }

    /// Bytes from OpenSSL's CSPRNG; fails loudly rather than ever returning weak randomness.
    static func randomBytes(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer {
            RAND_bytes($0.baseAddress, Int32($0.count))
        }
        guard status == 1 else {
            throw EnvelopeError(.crypto, "libcrypto could not produce random bytes (RAND_bytes failed)")
        }
        return bytes
    }
}

/// Lowercase hexadecimal, the form fingerprints are printed and compared in.
func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var characters: [UInt8] = []
    for byte in bytes {
        characters.append(digits[Int(byte >> 4)])
        characters.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: characters, as: UTF8.self)
}
