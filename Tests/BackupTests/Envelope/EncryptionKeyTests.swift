import XCTest
@testable import Backup

final class EncryptionKeyTests: XCTestCase {
    private let keyBytes: [UInt8] = Array(0..<32)
    private var hexKey: String { keyBytes.map { String(format: "%02x", $0) }.joined() }

    func testFingerprintIsPinned() throws {
        XCTAssertEqual(try EncryptionKey(bytes: Array(repeating: 0, count: 32)).fingerprint, "c3fdcb566309d81a")
        XCTAssertEqual(try EncryptionKey(bytes: keyBytes).fingerprint, "94d95c16e70bd6c8")
    }

    func testKeyMustBe32Bytes() {
        XCTAssertThrowsError(try EncryptionKey(bytes: Array(repeating: 1, count: 31))) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .invalidKey)
        }
    }

    func testLoadsRawKeyFile() throws {
        let path = try writeFile(keyBytes, in: temporaryDirectory(), named: "raw.key")
        XCTAssertEqual(try EncryptionKey.load(path: path).fingerprint, testKey.fingerprint)
    }

    func testLoadsHexKeyFileWithNewline() throws {
        let directory = try temporaryDirectory()
        let plain = try writeFile(Array((hexKey + "\n").utf8), in: directory, named: "hex.key")
        XCTAssertEqual(try EncryptionKey.load(path: plain).fingerprint, testKey.fingerprint)
        let padded = try writeFile(Array(("  \t" + hexKey.uppercased() + "\r\n\n").utf8), in: directory, named: "padded.key")
        XCTAssertEqual(try EncryptionKey.load(path: padded).fingerprint, testKey.fingerprint)
    }

    func testRejectsKeyFileOfWrongLength() throws {
        let directory = try temporaryDirectory()
        for (name, contents) in [
            ("short.key", Array(repeating: UInt8(1), count: 31)),
            ("long.key", Array(repeating: UInt8(1), count: 33)),
            ("empty.key", []),
            ("hex62.key", Array(hexKey.dropLast(2).utf8) + [10]),
            ("huge.key", Array(repeating: UInt8(ascii: "a"), count: 10_000)),
        ] {
            let path = try writeFile(contents, in: directory, named: name)
            XCTAssertThrowsError(try EncryptionKey.load(path: path), name) { error in
                let error = error as? EnvelopeError
                XCTAssertEqual(error?.code, .invalidKey)
                XCTAssertTrue(error?.message.contains(path) ?? false, "\(name): \(String(describing: error))")
                XCTAssertTrue(error?.message.contains("32 raw bytes or 64 hex characters") ?? false)
            }
        }
    }

    func testRejectsKeyFileWithNonHexCharacter() throws {
        var text = Array(hexKey.utf8)
        text[10] = UInt8(ascii: "g")
        let path = try writeFile(text + [10], in: temporaryDirectory(), named: "badhex.key")
        XCTAssertThrowsError(try EncryptionKey.load(path: path)) { error in
            let message = (error as? EnvelopeError)?.message ?? ""
            XCTAssertTrue(message.contains("non-hex character at position 10"), message)
            XCTAssertTrue(message.contains(path), message)
        }
    }

    func testRejectsHexOfA16ByteKeyWithoutNewline() throws {
        let path = try writeFile(Array(hexKey.prefix(32).utf8), in: temporaryDirectory(), named: "hex32.key")
        XCTAssertThrowsError(try EncryptionKey.load(path: path)) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .invalidKey)
        }
    }

    func testRefusesKeyFileReadableByOthers() throws {
        let directory = try temporaryDirectory()
        for mode in [0o644, 0o640, 0o604] {
            let path = try writeFile(keyBytes, in: directory, named: "open-\(mode).key", mode: mode)
            XCTAssertThrowsError(try EncryptionKey.load(path: path)) { error in
                let message = (error as? EnvelopeError)?.message ?? ""
                XCTAssertTrue(message.contains(path), message)
                XCTAssertTrue(message.contains("mode 0" + String(mode, radix: 8)), message)
                XCTAssertTrue(message.contains("chmod 600"), message)
            }
        }
        let ownerOnly = try writeFile(keyBytes, in: directory, named: "owner.key", mode: 0o400)
        XCTAssertNoThrow(try EncryptionKey.load(path: ownerOnly))
    }

    func testMissingKeyFileNamesThePath() {
        XCTAssertThrowsError(try EncryptionKey.load(path: "/nonexistent/cairn.key")) { error in
            XCTAssertEqual((error as? EnvelopeError)?.code, .io)
            XCTAssertTrue(String(describing: error).contains("/nonexistent/cairn.key"))
        }
    }
}
