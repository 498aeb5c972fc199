import XCTest
@testable import Backup

final class EnvelopeRoundTripTests: XCTestCase {
    private let chunk = EnvelopeHeader.defaultChunkSize
    private let frameOverhead = 4 + FrameCipher.tagByteCount

    func testEmptyInputIsHeaderPlusEmptyFinalFrame() throws {
        let envelope = try encrypt([])
        XCTAssertEqual(envelope.count, EnvelopeHeader.byteCount + frameOverhead)
        let result = decrypt(envelope)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.plaintext, [])
    }

    func testOneByteRoundTrips() throws {
        let envelope = try encrypt([0x42])
        XCTAssertEqual(envelope.count, EnvelopeHeader.byteCount + frameOverhead + 1)
        let result = decrypt(envelope)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.plaintext, [0x42])
    }

    func testExactlyOneChunkEndsWithEmptyFinalFrame() throws {
        var generator = SeededGenerator(seed: 1)
        let plaintext = generator.bytes(count: chunk)
        let envelope = try encrypt(plaintext)
        XCTAssertEqual(envelope.count, EnvelopeHeader.byteCount + 2 * frameOverhead + chunk)
        let result = decrypt(envelope)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.plaintext, plaintext)
    }

    func testChunkPlusOneRoundTrips() throws {
        var generator = SeededGenerator(seed: 2)
        let plaintext = generator.bytes(count: chunk + 1)
        let envelope = try encrypt(plaintext)
        XCTAssertEqual(envelope.count, EnvelopeHeader.byteCount + 2 * frameOverhead + chunk + 1)
        let result = decrypt(envelope)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.plaintext, plaintext)
    }

    func testSeveralMebibytesInRandomSlicesRoundTrip() throws {
        var generator = SeededGenerator(seed: 3)
        let plaintext = generator.bytes(count: 5 * chunk + 12_345)
        let envelope = try encrypt(plaintext, slicing: .random(seed: 4, maxSize: 3 * chunk))
        for seed: UInt64 in [5, 6] {
            let result = decrypt(envelope, slicing: .random(seed: seed, maxSize: 2 * chunk + 7))
            XCTAssertNil(result.error)
            XCTAssertTrue(result.plaintext == plaintext, "seed \(seed) did not round trip")
        }
    }

    func testByteAtATimeRoundTripsAcrossManyFrames() throws {
        var generator = SeededGenerator(seed: 7)
        let plaintext = generator.bytes(count: 1_000)
        let envelope = try encrypt(plaintext, chunkSize: 64, slicing: .byteAtATime)
        XCTAssertEqual(envelope.count, try encrypt(plaintext, chunkSize: 64).count)
        let result = decrypt(envelope, slicing: .byteAtATime)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.plaintext, plaintext)
    }

    func testSinkSeesOnlyWholeAuthenticatedFrames() throws {
        var generator = SeededGenerator(seed: 8)
        let plaintext = generator.bytes(count: 250)
        let envelope = try encrypt(plaintext, chunkSize: 100)
        var deliveries: [Int] = []
        let reader = EnvelopeReader(key: testKey) { deliveries.append($0.count) }
        try Slicing.byteAtATime.forEachSlice(of: envelope) { try reader.consume($0) }
        try reader.finish()
        XCTAssertEqual(deliveries, [100, 100, 50])
    }

    func testTwoEncryptionsOfTheSameDataDiffer() throws {
        let plaintext = [UInt8](repeating: 7, count: 300)
        let first = try encrypt(plaintext)
        let second = try encrypt(plaintext)
        XCTAssertEqual(first.count, second.count)
        XCTAssertEqual(Array(first[0..<21]), Array(second[0..<21]), "magic, version, chunk size, key id")
        XCTAssertNotEqual(Array(first[21..<53]), Array(second[21..<53]), "salt must be random")
        XCTAssertNotEqual(Array(first[53...]), Array(second[53...]))
    }

    func testWrongKeyIsReportedFromHeaderFingerprint() throws {
        let envelope = try encrypt([1, 2, 3])
        let result = decrypt(envelope, key: otherKey)
        XCTAssertEqual(result.error?.code, .wrongKey)
        XCTAssertEqual(
            result.error?.message,
            "the snapshot was encrypted with key \(testKey.fingerprint), "
                + "the key file given is \(otherKey.fingerprint)")
        XCTAssertEqual(result.plaintext, [])
    }

    func testPlainInputIsReportedAsNotEncrypted() {
        let plain = Array("SQLite format 3\0 and more bytes of a plain snapshot......".utf8)
        XCTAssertEqual(decrypt(plain).error?.code, .notEncrypted)
        XCTAssertEqual(decrypt(Array(plain.prefix(3)), slicing: .byteAtATime).error?.code, .notEncrypted)
    }

    func testEmptyInputIsTruncated() {
        let error = decrypt([]).error
        XCTAssertEqual(error?.code, .truncated)
    }

    func testUseAfterFinishIsRefused() throws {
        let writer = try EnvelopeWriter(key: testKey) { _ in }
        try writer.finish()
        XCTAssertThrowsError(try [UInt8(1)].withUnsafeBytes { try writer.write($0) }) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .misuse)
        }
        XCTAssertThrowsError(try writer.finish())

        let envelope = try encrypt([1])
        let reader = EnvelopeReader(key: testKey) { _ in }
        try envelope.withUnsafeBytes { try reader.consume($0) }
        try reader.finish()
        XCTAssertThrowsError(try envelope.withUnsafeBytes { try reader.consume($0) }) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .misuse)
        }
    }

    func testSinkErrorsPropagateAndStick() throws {
        struct SinkFull: Error {}
        var calls = 0
        let writer = try EnvelopeWriter(key: testKey, chunkSize: 16) { _ in
            calls += 1
            if calls > 1 { throw SinkFull() }
        }
        let data = [UInt8](repeating: 0, count: 40)
        XCTAssertThrowsError(try data.withUnsafeBytes { try writer.write($0) }) { XCTAssertTrue($0 is SinkFull) }
        XCTAssertThrowsError(try writer.finish()) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .misuse)
        }
    }
}
