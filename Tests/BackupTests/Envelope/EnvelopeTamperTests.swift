import XCTest
@testable import Backup

/// Every modification of an envelope must end in an error, and the sink may only ever have
/// received a prefix of the true plaintext (frames that verified before the damage).
final class EnvelopeTamperTests: XCTestCase {
    private let chunkSize = 100
    private var plaintext: [UInt8] = []
    private var envelope: [UInt8] = []

    override func setUpWithError() throws {
        var generator = SeededGenerator(seed: 42)
        plaintext = generator.bytes(count: 1_234)
        envelope = try encrypt(plaintext, chunkSize: chunkSize)
    }

    private func assertRejected(
        _ modified: [UInt8], _ what: String, expected codes: Set<EnvelopeError.Code>? = nil,
        slicing: Slicing = .whole, file: StaticString = #filePath, line: UInt = #line
    ) {
        let result = decrypt(modified, slicing: slicing)
        guard let error = result.error else {
            XCTFail("\(what) was accepted", file: file, line: line)
            return
        }
        if let codes {
            XCTAssertTrue(codes.contains(error.code), "\(what): unexpected \(error.code): \(error)", file: file, line: line)
        }
        XCTAssertTrue(
            plaintext.starts(with: result.plaintext), "\(what) delivered wrong plaintext", file: file, line: line)
        XCTAssertTrue(
            result.plaintext.count % chunkSize == 0 || result.plaintext == plaintext,
            "\(what) delivered part of a frame", file: file, line: line)
    }

    func testFlippingAnySingleBitIsRejected() {
        var generator = SeededGenerator(seed: 43)
        // Every header byte and every length field, then random positions over the whole file.
        var positions = Array(0..<EnvelopeHeader.byteCount)
        for offset in frameOffsets(envelopeByteCount: envelope.count, chunkSize: chunkSize) {
            positions.append(contentsOf: offset..<offset + 4)
        }
        while positions.count < 250 {
            positions.append(Int.random(in: 0..<envelope.count, using: &generator))
        }
        for position in positions {
            var modified = envelope
            let bit = Int.random(in: 0..<8, using: &generator)
            modified[position] ^= UInt8(1 << bit)
            assertRejected(modified, "bit \(bit) of byte \(position) flipped")
        }
    }

    func testFlippingBitsInADefaultChunkEnvelopeIsRejected() throws {
        var generator = SeededGenerator(seed: 44)
        let large = generator.bytes(count: EnvelopeHeader.defaultChunkSize + 10)
        let sealed = try encrypt(large)
        // The chunk size field (bytes 9...12), the second frame's length field, the first
        // frame's tag and a few ciphertext bytes.
        let secondFrame = EnvelopeHeader.byteCount + 4 + EnvelopeHeader.defaultChunkSize + 16
        let positions = [9, 10, 11, 12, secondFrame, secondFrame + 3, secondFrame - 1, 60, secondFrame + 5]
        for position in positions {
            for bit in [0, 7] {
                var modified = sealed
                modified[position] ^= UInt8(1 << bit)
                let result = decrypt(modified)
                XCTAssertNotNil(result.error, "bit \(bit) of byte \(position) flipped was accepted")
                XCTAssertTrue(large.starts(with: result.plaintext))
            }
        }
    }

    func testAuthenticationFailureNamesFrameAndOffset() {
        var modified = envelope
        let thirdFrame = frameOffsets(envelopeByteCount: envelope.count, chunkSize: chunkSize)[2]
        modified[thirdFrame + 10] ^= 1
        let error = decrypt(modified).error
        XCTAssertEqual(error?.code, .corrupt)
        XCTAssertEqual(error?.offset, thirdFrame)
        XCTAssertEqual(
            error?.message,
            "frame 2 at byte \(thirdFrame) failed authentication: wrong key or tampered data")
    }

    func testTruncationAtEveryFrameBoundaryIsRejected() {
        var cuts = [0, EnvelopeHeader.byteCount]
        cuts += frameOffsets(envelopeByteCount: envelope.count, chunkSize: chunkSize)
        for cut in cuts {
            assertRejected(Array(envelope.prefix(cut)), "cut at frame boundary \(cut)", expected: [.truncated])
        }
    }

    func testTruncationAtRandomOffsetsIsRejected() {
        var generator = SeededGenerator(seed: 45)
        for _ in 0..<150 {
            let cut = Int.random(in: 0..<envelope.count, using: &generator)
            assertRejected(Array(envelope.prefix(cut)), "cut at \(cut)", expected: [.truncated])
        }
        assertRejected(Array(envelope.dropLast()), "last byte dropped", expected: [.truncated], slicing: .byteAtATime)
    }

    func testDataAfterTheFinalFrameIsRejected() throws {
        assertRejected(envelope + [0], "one extra byte", expected: [.trailingData])
        assertRejected(envelope + envelope, "two envelopes concatenated", expected: [.trailingData])
        let error = decrypt(envelope + [1, 2, 3], slicing: .byteAtATime).error
        XCTAssertEqual(error?.offset, envelope.count)
    }

    func testSwappingDroppingOrDuplicatingFramesIsRejected() {
        let offsets = frameOffsets(envelopeByteCount: envelope.count, chunkSize: chunkSize)
        let frameSize = 4 + chunkSize + FrameCipher.tagByteCount
        func frame(_ index: Int) -> ArraySlice<UInt8> { envelope[offsets[index]..<offsets[index] + frameSize] }

        var swapped = envelope
        swapped.replaceSubrange(offsets[1]..<offsets[1] + frameSize, with: frame(2))
        swapped.replaceSubrange(offsets[2]..<offsets[2] + frameSize, with: frame(1))
        assertRejected(swapped, "frames 1 and 2 swapped", expected: [.corrupt])

        var dropped = envelope
        dropped.removeSubrange(offsets[3]..<offsets[3] + frameSize)
        assertRejected(dropped, "frame 3 dropped", expected: [.corrupt])

        var duplicated = envelope
        duplicated.insert(contentsOf: frame(4), at: offsets[4])
        assertRejected(duplicated, "frame 4 duplicated", expected: [.corrupt])

        // The final frame moved right after the header: authenticated as final, but at index 0.
        let finalFrame = Array(envelope[offsets[offsets.count - 1]...])
        assertRejected(Array(envelope.prefix(EnvelopeHeader.byteCount)) + finalFrame, "final frame moved", expected: [.corrupt])
    }

    func testFramesFromAnotherEnvelopeUnderTheSameKeyAreRejected() throws {
        let other = try encrypt(plaintext, chunkSize: chunkSize)
        var spliced = envelope
        let offsets = frameOffsets(envelopeByteCount: envelope.count, chunkSize: chunkSize)
        spliced.replaceSubrange(offsets[1]..<offsets[2], with: other[offsets[1]..<offsets[2]])
        assertRejected(spliced, "frame spliced from another file", expected: [.corrupt])

        var otherHeader = envelope
        otherHeader.replaceSubrange(0..<EnvelopeHeader.byteCount, with: other[0..<EnvelopeHeader.byteCount])
        assertRejected(otherHeader, "header from another file", expected: [.corrupt])
    }

    func testOversizedFrameLengthIsRejectedBeforeBuffering() {
        var modified = envelope
        modified.replaceSubrange(EnvelopeHeader.byteCount..<EnvelopeHeader.byteCount + 4, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let error = decrypt(Array(modified.prefix(EnvelopeHeader.byteCount + 4))).error
        XCTAssertEqual(error?.code, .corrupt)
        XCTAssertEqual(error?.offset, EnvelopeHeader.byteCount)
    }

    func testHugeChunkSizeInHeaderIsRejected() {
        var modified = envelope
        modified.replaceSubrange(9..<13, with: [0, 0, 0, 0x40])
        XCTAssertEqual(decrypt(modified).error?.code, .invalidHeader)
    }
}
