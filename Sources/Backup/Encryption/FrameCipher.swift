import CCrypto

/// AES-256-GCM over one envelope's frames: derives the file's data key and binds every frame
/// to the header, its position and its finality (nonce and AAD layout in FORMAT.md).
final class FrameCipher {
    enum Direction { case encrypt, decrypt }

    static let tagByteCount = 16
    static let nonceByteCount = 12
    /// HKDF `info`: names the purpose and format version so a future format can derive
    /// independent keys from the same master key.
    static let keyDerivationInfo = Array("cairn-envelope-v1 aes-256-gcm data key".utf8)

    private let direction: Direction
    private let context: OpaquePointer
    private let dataKey: SecretBytes
    /// Header bytes ‖ frame index (u64 LE) ‖ final flag (u8); only the last 9 bytes change.
    private var associatedData: [UInt8]
    private var nonce = [UInt8](repeating: 0, count: nonceByteCount)

    init(direction: Direction, key: EncryptionKey, header: EnvelopeHeader) throws {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw EnvelopeError(.crypto, "libcrypto could not allocate a cipher context")
        }
        self.context = context
        self.direction = direction
        do {
            dataKey = try key.secret.withUnsafeBytes { masterKey in
                try header.salt.withUnsafeBytes { salt in
                    try Self.keyDerivationInfo.withUnsafeBytes { info in
                        try LibCrypto.hkdfSHA256(
                            key: masterKey, salt: salt, info: info, count: EncryptionKey.byteCount)
                    }
                }
            }
        } catch {
            EVP_CIPHER_CTX_free(context)
            throw error
        }
        associatedData = header.encoded() + [UInt8](repeating: 0, count: 9)
        let status = direction == .encrypt
            ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil)
            : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil)
        guard status == 1 else {
            throw EnvelopeError(.crypto, "libcrypto could not initialise AES-256-GCM")
        }
    }

    deinit {
        EVP_CIPHER_CTX_free(context)
    }

    /// Starts frame `index`: sets its key and nonce and feeds its associated data.
    func begin(frameIndex index: UInt64, isFinal: Bool) throws {
        nonce.replaceSubrange(0..<8, with: littleEndianBytes(index))
        let frameFieldsOffset = associatedData.count - 9
        associatedData.replaceSubrange(frameFieldsOffset..., with: littleEndianBytes(index) + [isFinal ? 1 : 0])

        let initialised = dataKey.withUnsafeBytes { key in
            let keyPointer = key.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return nonce.withUnsafeBufferPointer { nonce in
                direction == .encrypt
                    ? EVP_EncryptInit_ex(context, nil, nil, keyPointer, nonce.baseAddress)
                    : EVP_DecryptInit_ex(context, nil, nil, keyPointer, nonce.baseAddress)
            }
        }
        guard initialised == 1 else {
            throw EnvelopeError(.crypto, "libcrypto could not start an AES-256-GCM frame")
        }
        var ignoredLength: Int32 = 0
        let fedAssociatedData = associatedData.withUnsafeBufferPointer { aad in
            direction == .encrypt
                ? EVP_EncryptUpdate(context, nil, &ignoredLength, aad.baseAddress, Int32(aad.count))
                : EVP_DecryptUpdate(context, nil, &ignoredLength, aad.baseAddress, Int32(aad.count))
        }
        guard fedAssociatedData == 1 else {
            throw EnvelopeError(.crypto, "libcrypto rejected the frame's associated data")
        }
    }

    /// Transforms `input` into `output`, which must have room for `input.count` bytes (GCM is
    /// a stream mode: output length always equals input length).
    func update(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) throws {
        guard let inputBase = input.baseAddress, input.count > 0 else { return }
        var outputLength: Int32 = 0
        let outputPointer = output.assumingMemoryBound(to: UInt8.self)
        let inputPointer = inputBase.assumingMemoryBound(to: UInt8.self)
        let status = direction == .encrypt
            ? EVP_EncryptUpdate(context, outputPointer, &outputLength, inputPointer, Int32(input.count))
            : EVP_DecryptUpdate(context, outputPointer, &outputLength, inputPointer, Int32(input.count))
        guard status == 1, Int(outputLength) == input.count else {
            throw EnvelopeError(.crypto, "libcrypto failed inside AES-256-GCM")
        }
    }

    /// Ends an encrypted frame and writes its 16-byte tag to `tag`.
    func finishEncryption(tag: UnsafeMutableRawPointer) throws {
        precondition(direction == .encrypt)
        var scratch = [UInt8](repeating: 0, count: Self.tagByteCount)
        var finalLength: Int32 = 0
        let finished = scratch.withUnsafeMutableBufferPointer {
            EVP_EncryptFinal_ex(context, $0.baseAddress, &finalLength)
        }
        guard finished == 1, finalLength == 0,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagByteCount), tag) == 1
        else {
            throw EnvelopeError(.crypto, "libcrypto could not finish an AES-256-GCM frame")
        }
    }

    /// Ends a decrypted frame; true only if `tag` authenticates the frame and its context.
    func finishDecryption(tag: [UInt8]) -> Bool {
        precondition(direction == .decrypt && tag.count == Self.tagByteCount)
        var tag = tag
        let tagSet = tag.withUnsafeMutableBytes {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagByteCount), $0.baseAddress)
        }
        guard tagSet == 1 else { return false }
        var scratch = [UInt8](repeating: 0, count: Self.tagByteCount)
        var finalLength: Int32 = 0
        let verified = scratch.withUnsafeMutableBufferPointer {
            EVP_DecryptFinal_ex(context, $0.baseAddress, &finalLength)
        }
        return verified == 1
    }
}
