/// Decrypts and authenticates a cairn snapshot envelope (see `EnvelopeWriter` for the
/// format) with constant memory: one chunk of plaintext plus a few bytes of framing.
///
/// Input may arrive in slices of any size. Ciphertext is decrypted as it arrives, but a
/// frame's plaintext reaches the sink only after that frame's tag has verified, so the sink
/// never sees unauthenticated bytes. The first error is sticky: later calls rethrow it.
public final class EnvelopeReader {
    /// Where in the stream the next input byte belongs.
    private enum Phase: Equatable {
        case header
        case frameLength
        /// `remaining` ciphertext bytes of the current frame are still to come.
        case ciphertext(remaining: Int)
        case tag
        /// The final frame verified; nothing may follow.
        case done
    }

    private struct Frame {
        let index: UInt64
        /// Byte offset of the frame's length field in the stream.
        let offset: Int
        let length: Int
        let isFinal: Bool
    }

    private let key: EncryptionKey
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private var phase = Phase.header
    /// Accumulates fixed-size fields (header, length, tag) that may be split across slices.
    private var field: [UInt8] = []
    private var header: EnvelopeHeader?
    private var cipher: FrameCipher?
    /// Decrypted, not yet authenticated plaintext of the current frame.
    private var plaintext: [UInt8] = []
    private var frame: Frame?
    private var nextFrameIndex: UInt64 = 0
    /// Stream bytes consumed so far, for error offsets.
    private var offset = 0
    private var failure: (any Error)?
    private var finished = false

    /// Creates a reader that delivers authenticated plaintext to `sink`, in order.
    public init(key: EncryptionKey, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.key = key
        self.sink = sink
    }

    /// Feeds the next slice of the encrypted stream.
    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        try guardUsable(operation: "consume")
        do {
            var cursor = 0
            while cursor < bytes.count {
                cursor += try step(UnsafeRawBufferPointer(rebasing: bytes[cursor...]))
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Confirms the stream ended exactly after its final frame; throws if it was truncated.
    public func finish() throws {
        try guardUsable(operation: "finish")
        finished = true
        guard phase != .done else { return }
        let error = truncationError()
        failure = error
        throw error
    }

    private func guardUsable(operation: String) throws {
        if let failure { throw failure }
        if finished {
            throw EnvelopeError(.misuse, "cannot \(operation): the envelope reader has already finished")
        }
    }

    /// Consumes a prefix of `input` for the current phase, advancing `offset`, and returns how
    /// many bytes it took.
    private func step(_ input: UnsafeRawBufferPointer) throws -> Int {
        switch phase {
        case .header:
            let taken = fill(from: input, upTo: EnvelopeHeader.byteCount)
            guard EnvelopeHeader.couldStartWithMagic(field) else {
                throw EnvelopeError(
                    .notEncrypted,
                    "not an encrypted cairn snapshot: it does not start with the CAIRNENC magic",
                    offset: 0)
            }
            if field.count == EnvelopeHeader.byteCount {
                try acceptHeader()
            }
            return taken

        case .frameLength:
            let taken = fill(from: input, upTo: 4)
            if field.count == 4 {
                try beginFrame(length: Int(readLittleEndianUInt32(field, at: 0)))
            }
            return taken

        case .ciphertext(let remaining):
            guard let frame, let cipher else { preconditionFailure("ciphertext phase without a frame") }
            let taken = min(input.count, remaining)
            let filled = frame.length - remaining
            try plaintext.withUnsafeMutableBytes { output in
                guard let base = output.baseAddress else { preconditionFailure("empty plaintext buffer") }
                try cipher.update(UnsafeRawBufferPointer(rebasing: input[0..<taken]), into: base + filled)
            }
            offset += taken
            phase = taken == remaining ? .tag : .ciphertext(remaining: remaining - taken)
            return taken

        case .tag:
            let taken = fill(from: input, upTo: FrameCipher.tagByteCount)
            if field.count == FrameCipher.tagByteCount {
                try endFrame()
            }
            return taken

        case .done:
            throw EnvelopeError(
                .trailingData,
                "unexpected data after the final frame, starting at byte \(offset): the file has "
                    + "extra bytes appended or two envelopes were concatenated",
                offset: offset)
        }
    }

    /// Appends bytes from `input` until `field` holds `count` bytes; returns how many it took.
    private func fill(from input: UnsafeRawBufferPointer, upTo count: Int) -> Int {
        let taken = min(input.count, count - field.count)
        field.append(contentsOf: input[0..<taken])
        offset += taken
        return taken
    }

    private func acceptHeader() throws {
        let parsed = try EnvelopeHeader.parse(field)
        guard parsed.keyFingerprint == key.fingerprintBytes else {
            throw EnvelopeError(
                .wrongKey,
                "the snapshot was encrypted with key \(hexString(parsed.keyFingerprint)), "
                    + "the key file given is \(key.fingerprint)",
                offset: EnvelopeHeader.fingerprintOffset)
        }
        cipher = try FrameCipher(direction: .decrypt, key: key, header: parsed)
        plaintext = [UInt8](repeating: 0, count: parsed.chunkSize)
        header = parsed
        field.removeAll(keepingCapacity: true)
        phase = .frameLength
    }

    private func beginFrame(length: Int) throws {
        guard let header, let cipher else { preconditionFailure("frame before header") }
        let frameOffset = offset - 4
        guard length <= header.chunkSize else {
            throw EnvelopeError(
                .corrupt,
                "frame \(nextFrameIndex) at byte \(frameOffset) declares \(length) bytes of "
                    + "ciphertext, more than the chunk size \(header.chunkSize): corrupt data",
                offset: frameOffset)
        }
        let current = Frame(
            index: nextFrameIndex, offset: frameOffset, length: length,
            isFinal: length < header.chunkSize)
        try cipher.begin(frameIndex: current.index, isFinal: current.isFinal)
        frame = current
        field.removeAll(keepingCapacity: true)
        phase = length > 0 ? .ciphertext(remaining: length) : .tag
    }

    private func endFrame() throws {
        guard let frame, let cipher else { preconditionFailure("tag without a frame") }
        guard cipher.finishDecryption(tag: field) else {
            // Unauthenticated plaintext must not outlive the failure.
            cleanse(&plaintext)
            throw EnvelopeError(
                .corrupt,
                "frame \(frame.index) at byte \(frame.offset) failed authentication: "
                    + "wrong key or tampered data",
                offset: frame.offset)
        }
        field.removeAll(keepingCapacity: true)
        nextFrameIndex += 1
        phase = frame.isFinal ? .done : .frameLength
        self.frame = nil
        if frame.length > 0 {
            try plaintext.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<frame.length])) }
        }
    }

    private func truncationError() -> EnvelopeError {
        let message: String
        switch phase {
        case .header where offset == 0:
            message = "the input is empty: no envelope header"
        case .header:
            message = "truncated: the input ends at byte \(offset), inside the "
                + "\(EnvelopeHeader.byteCount)-byte envelope header"
        case .frameLength where field.isEmpty:
            let last = nextFrameIndex == 0 ? "the header" : "frame \(nextFrameIndex - 1)"
            message = "truncated: the input ends at byte \(offset), after \(last) and before the "
                + "final frame; the snapshot is incomplete"
        case .frameLength:
            message = "truncated: the input ends at byte \(offset), inside the length field of "
                + "frame \(nextFrameIndex)"
        case .ciphertext, .tag:
            let frameDescription = frame.map { "frame \($0.index) (which starts at byte \($0.offset))" }
                ?? "frame \(nextFrameIndex)"
            message = "truncated: the input ends at byte \(offset), inside \(frameDescription)"
        case .done:
            preconditionFailure("a complete envelope is not truncated")
        }
        return EnvelopeError(.truncated, message, offset: offset)
    }
}
