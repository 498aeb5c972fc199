/// Encrypts a stream into the cairn snapshot envelope with constant memory.
///
/// # Format (version 1; full description and rationale in FORMAT.md)
///
/// All integers are little-endian.
///
///     header (53 bytes)
///       magic            8   "CAIRNENC"
///       version          1   1
///       chunk size       4   plaintext bytes per non-final frame (1 MiB)
///       key fingerprint  8   first 8 bytes of SHA-256("cairn-key-id" ‖ master key)
///       salt            32   random per file (RAND_bytes)
///     frame, repeated
///       length           4   ciphertext length: = chunk size, or < chunk size for the final frame
///       ciphertext  length   AES-256-GCM
///       tag             16   GCM tag
///
/// - Data key: HKDF-SHA256(ikm: master key, salt: header salt,
///   info: "cairn-envelope-v1 aes-256-gcm data key"), so every file has its own key.
/// - Nonce (12 bytes): frame index u64 ‖ 4 zero bytes. It never repeats under one data key.
/// - AAD: the 53 header bytes ‖ frame index u64 ‖ final flag u8 (1 for the last frame).
///
/// Binding the index and the final flag into each tag means reordered, dropped, duplicated
/// or spliced frames fail authentication, and a stream cut at a frame boundary ends on a
/// frame not flagged final, which the reader reports as truncation. Binding the header
/// makes any header edit fail the first frame.
///
/// Non-final frames are always exactly one chunk and the final frame is always shorter
/// (the writer emits a full chunk as soon as it has one, so input that is a whole number of
/// chunks ends with an empty final frame). The reader therefore knows whether a frame claims
/// to be final from its length alone, before decrypting it.
public final class EnvelopeWriter {
    private enum State { case open, finished, failed }

    private let sink: ([UInt8]) throws -> Void
    private let cipher: FrameCipher
    private let chunkSize: Int
    /// Plaintext of the frame being filled; always fewer than `chunkSize` bytes between calls.
    private var pending: [UInt8]
    private var frameIndex: UInt64 = 0
    private var state = State.open

    /// Creates a writer for `key` and writes the envelope header through `sink` at once.
    ///
    /// `sink` receives each piece of the encrypted stream in order: the header, then one
    /// array per frame.
    public convenience init(key: EncryptionKey, sink: @escaping ([UInt8]) throws -> Void) throws {
        try self.init(key: key, chunkSize: EnvelopeHeader.defaultChunkSize, sink: sink)
    }

    /// Tests use small chunks to exercise many frames cheaply; production uses 1 MiB.
    init(key: EncryptionKey, chunkSize: Int, sink: @escaping ([UInt8]) throws -> Void) throws {
        precondition((1...EnvelopeHeader.maxChunkSize).contains(chunkSize), "chunk size out of range")
        let header = EnvelopeHeader(
            chunkSize: chunkSize,
            keyFingerprint: key.fingerprintBytes,
            salt: try LibCrypto.randomBytes(count: EnvelopeHeader.saltByteCount))
        self.sink = sink
        self.chunkSize = chunkSize
        self.cipher = try FrameCipher(direction: .encrypt, key: key, header: header)
        self.pending = []
        pending.reserveCapacity(chunkSize)
        try sink(header.encoded())
    }

    /// Encrypts `bytes`, emitting a frame through the sink for every full chunk.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try checkOpen(operation: "write")
        do {
            var cursor = 0
            while cursor < bytes.count {
                let remaining = bytes.count - cursor
                if pending.isEmpty && remaining >= chunkSize {
                    // Whole chunks straight from the caller's buffer: no copy into `pending`.
                    try emitFrame(UnsafeRawBufferPointer(rebasing: bytes[cursor..<cursor + chunkSize]), isFinal: false)
                    cursor += chunkSize
                    continue
                }
                let taken = min(remaining, chunkSize - pending.count)
                pending.append(contentsOf: bytes[cursor..<cursor + taken])
                cursor += taken
                if pending.count == chunkSize {
                    try pending.withUnsafeBytes { try emitFrame($0, isFinal: false) }
                    pending.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            state = .failed
            throw error
        }
    }

    /// Emits the final frame (empty when the input was a whole number of chunks). The writer
    /// cannot be used afterwards.
    public func finish() throws {
        try checkOpen(operation: "finish")
        do {
            try pending.withUnsafeBytes { try emitFrame($0, isFinal: true) }
            pending = []
            state = .finished
        } catch {
            state = .failed
            throw error
        }
    }

    private func checkOpen(operation: String) throws {
        switch state {
        case .open:
            return
        case .finished:
            throw EnvelopeError(.misuse, "cannot \(operation): the envelope writer has already finished")
        case .failed:
            throw EnvelopeError(.misuse, "cannot \(operation): the envelope writer failed earlier")
        }
    }

    private func emitFrame(_ plaintext: UnsafeRawBufferPointer, isFinal: Bool) throws {
        assert(isFinal ? plaintext.count < chunkSize : plaintext.count == chunkSize)
        guard frameIndex < UInt64.max else {
            throw EnvelopeError(.misuse, "too many frames for one envelope")
        }
        try cipher.begin(frameIndex: frameIndex, isFinal: isFinal)
        let lengthField = littleEndianBytes(UInt32(plaintext.count))
        let frameByteCount = lengthField.count + plaintext.count + FrameCipher.tagByteCount
        let frame = try [UInt8](unsafeUninitializedCapacity: frameByteCount) { buffer, initialized in
            let output = UnsafeMutableRawBufferPointer(buffer)
            guard let base = output.baseAddress else {
                throw EnvelopeError(.crypto, "could not allocate a \(frameByteCount)-byte frame")
            }
            output.copyBytes(from: lengthField)
            try cipher.update(plaintext, into: base + lengthField.count)
            try cipher.finishEncryption(tag: base + lengthField.count + plaintext.count)
            initialized = frameByteCount
        }
        try sink(frame)
        frameIndex += 1
    }
}
