import XCTest
@testable import Backup

/// SplitMix64: a tiny seeded generator so every "random" test replays identically.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func bytes(count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count + 8)
        while result.count < count {
            withUnsafeBytes(of: next().littleEndian) { result.append(contentsOf: $0) }
        }
        result.removeLast(result.count - count)
        return result
    }
}

let testKey = try! EncryptionKey(bytes: Array(0..<32))
let otherKey = try! EncryptionKey(bytes: Array(repeating: 0xA5, count: 32))

/// How a test slices a buffer before handing it to the writer or reader.
enum Slicing {
    case whole
    case byteAtATime
    /// Random slice sizes from 1 byte up to `maxSize`, drawn from a seeded generator.
    case random(seed: UInt64, maxSize: Int)

    func forEachSlice(of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { buffer in
            var generator = SeededGenerator(seed: seedValue)
            var cursor = 0
            while cursor < buffer.count {
                let size: Int
                switch self {
                case .whole: size = buffer.count
                case .byteAtATime: size = 1
                case .random(_, let maxSize):
                    // Mostly small slices, sometimes large ones, so both field-splitting and
                    // multi-frame slices happen.
                    let limit = Bool.random(using: &generator) ? min(64, maxSize) : maxSize
                    size = Int.random(in: 1...limit, using: &generator)
                }
                let end = min(buffer.count, cursor + size)
                try body(UnsafeRawBufferPointer(rebasing: buffer[cursor..<end]))
                cursor = end
            }
        }
    }

    private var seedValue: UInt64 {
        if case .random(let seed, _) = self { return seed }
        return 0
    }
}

func encrypt(
    _ plaintext: [UInt8],
    key: EncryptionKey = testKey,
    chunkSize: Int = EnvelopeHeader.defaultChunkSize,
    slicing: Slicing = .whole
) throws -> [UInt8] {
    var output: [UInt8] = []
    let writer = try EnvelopeWriter(key: key, chunkSize: chunkSize) { output.append(contentsOf: $0) }
    try slicing.forEachSlice(of: plaintext) { try writer.write($0) }
    try writer.finish()
    return output
}

/// Decrypts `envelope`, returning the plaintext the sink received before any error, and the
/// error if there was one. Never traps: tamper tests rely on getting a result either way.
func decrypt(
    _ envelope: [UInt8],
    key: EncryptionKey = testKey,
    slicing: Slicing = .whole
) -> (plaintext: [UInt8], error: EnvelopeError?) {
    var plaintext: [UInt8] = []
    let reader = EnvelopeReader(key: key) { plaintext.append(contentsOf: $0) }
    do {
        try slicing.forEachSlice(of: envelope) { try reader.consume($0) }
        try reader.finish()
        return (plaintext, nil)
    } catch let error as EnvelopeError {
        return (plaintext, error)
    } catch {
        XCTFail("unexpected error type: \(error)")
        return (plaintext, nil)
    }
}

/// Byte offsets of each frame's length field in an envelope with full frames of `chunkSize`.
func frameOffsets(envelopeByteCount: Int, chunkSize: Int) -> [Int] {
    let fullFrame = 4 + chunkSize + FrameCipher.tagByteCount
    var offsets: [Int] = []
    var offset = EnvelopeHeader.byteCount
    while offset < envelopeByteCount {
        offsets.append(offset)
        offset += fullFrame
    }
    return offsets
}

extension XCTestCase {
    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("envelope-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    func writeFile(_ bytes: [UInt8], in directory: URL, named name: String, mode: Int = 0o600) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }
}
