import CZstd

/// Streaming zstd compression with content checksums in every frame, optionally on worker
/// threads. Output goes to `sink` as it is produced; memory stays at zstd's window.
final class ZstdCompressor {
    private let stream: OpaquePointer
    private var output: [UInt8]
    private let sink: ([UInt8]) throws -> Void

    init(level: Int32, workers: Int32, sink: @escaping ([UInt8]) throws -> Void) throws(BackupError) {
        guard let stream = ZSTD_createCCtx() else { throw BackupError("compress", at: "start", "zstd cannot allocate a context") }
        self.stream = stream
        self.sink = sink
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        try check(ZSTD_CCtx_setParameter(stream, ZSTD_c_compressionLevel, level), "set level \(level)")
        try check(ZSTD_CCtx_setParameter(stream, ZSTD_c_checksumFlag, 1), "enable checksums")
        if workers > 0 {
            // Libraries built without threads refuse: compress on this thread then.
            _ = ZSTD_CCtx_setParameter(stream, ZSTD_c_nbWorkers, workers)
        }
    }

    deinit { ZSTD_freeCCtx(stream) }

    private func check(_ code: Int, _ what: String) throws(BackupError) {
        if ZSTD_isError(code) != 0 {
            throw BackupError("compress", at: what, String(cString: ZSTD_getErrorName(code)))
        }
    }

    func compress(_ bytes: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            try drain(&input, directive: ZSTD_e_continue)
        }
    }

    /// Ends the frame; the compressor is done afterwards.
    func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try drain(&input, directive: ZSTD_e_end) != 0 {}
    }

    @discardableResult
    private func drain(_ input: inout ZSTD_inBuffer, directive: ZSTD_EndDirective) throws -> Int {
        let (remaining, produced) = output.withUnsafeMutableBytes { buffer in
            var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let remaining = ZSTD_compressStream2(stream, &out, &input, directive)
            return (remaining, out.pos)
        }
        try check(remaining, "compressing")
        if produced > 0 { try sink(Array(output[..<produced])) }
        return remaining
    }
}

/// Pull-based zstd decompression: fills the caller's buffer from compressed bytes it reads
/// from `source` as needed, verifying each frame's content checksum. Knows the compressed
/// offset it has reached, for error messages.
final class ZstdReader {
    private let stream: OpaquePointer
    private let source: (Int) throws -> [UInt8]
    private var input: [UInt8] = []
    private var inputPosition = 0
    /// Compressed bytes consumed so far.
    private(set) var offset = 0
    private var atFrameEnd = true
    private var sawInput = false

    /// `source(n)` returns up to n more compressed bytes, empty at the end.
    init(source: @escaping (Int) throws -> [UInt8]) throws(BackupError) {
        guard let stream = ZSTD_createDCtx() else { throw BackupError("zstd stream", at: "start", "zstd cannot allocate a context") }
        self.stream = stream
        self.source = source
    }

    deinit { ZSTD_freeDCtx(stream) }

    /// Decompressed bytes into `buffer`; 0 at the end of the stream. Throws when the stream is
    /// corrupt, its checksum wrong, or it ends inside a frame.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while output.pos == 0 {
            if inputPosition == input.count {
                input = try source(1 << 20)
                inputPosition = 0
                if input.isEmpty {
                    if !sawInput { throw BackupError("zstd stream", at: "compressed byte 0", "the file is empty") }
                    if !atFrameEnd {
                        throw BackupError("zstd stream", at: "compressed byte \(offset)", "the file ends inside a zstd frame (truncated)")
                    }
                    return 0
                }
                sawInput = true
            }
            let before = inputPosition
            let result = input.withUnsafeBytes { raw in
                var chunk = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: before)
                let result = ZSTD_decompressStream(stream, &output, &chunk)
                inputPosition = chunk.pos
                return result
            }
            if ZSTD_isError(result) != 0 {
                throw BackupError("zstd stream", at: "compressed byte \(offset)", String(cString: ZSTD_getErrorName(result)))
            }
            offset += inputPosition - before
            atFrameEnd = result == 0
        }
        return output.pos
    }
}
