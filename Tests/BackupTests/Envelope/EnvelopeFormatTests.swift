import XCTest
@testable import Backup

/// Pins the on-disk format so snapshots written today stay readable.
final class EnvelopeFormatTests: XCTestCase {
    /// Written by an independent Python implementation of FORMAT.md (the `cryptography`
    /// package): key 00 01 … 1f, salt 80 81 … 9f, chunk size 16, three frames.
    private let pythonVector = """
        434149524e454e43011000000094d95c16e70bd6c8808182838485868788898a8b8c8d8e8f90919293949596\
        9798999a9b9c9d9e9f10000000d51414866aad3ef5518d7080a295d28e700b3638406994ce4a751126941c85\
        2d10000000ebfc7c096a22dcf29d92bce82fa86158fd84a820db38bc7e34b6bbfc3425d2910b000000f7442e\
        9584a264f5859b73459f4d04bacb700489df23f5cd52f938
        """

    func testDecryptsIndependentlyProducedVector() throws {
        let envelope = try XCTUnwrap(bytes(hex: pythonVector))
        let result = decrypt(envelope, slicing: .random(seed: 9, maxSize: 40))
        XCTAssertNil(result.error)
        XCTAssertEqual(String(decoding: result.plaintext, as: UTF8.self), "The quick brown fox jumps over the lazy dog")
    }

    func testHeaderLayout() throws {
        let envelope = try encrypt([])
        XCTAssertEqual(Array(envelope[0..<8]), Array("CAIRNENC".utf8))
        XCTAssertEqual(envelope[8], 1)
        XCTAssertEqual(Array(envelope[9..<13]), [0x00, 0x00, 0x10, 0x00], "1 MiB little-endian")
        XCTAssertEqual(hexString(envelope[13..<21]), testKey.fingerprint)
        XCTAssertEqual(Array(envelope[53..<57]), [0, 0, 0, 0], "empty final frame")
        XCTAssertEqual(envelope.count, 53 + 4 + 16)
    }

    func testUnsupportedVersionIsReported() throws {
        var envelope = try encrypt([1])
        envelope[8] = 2
        let error = decrypt(envelope).error
        XCTAssertEqual(error?.code, .invalidHeader)
        XCTAssertEqual(error?.offset, 8)
    }

    func testHKDFMatchesRFC5869TestCase1() throws {
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt: [UInt8] = Array(0x00...0x0c)
        let info: [UInt8] = Array(0xf0...0xf9)
        let okm = try ikm.withUnsafeBytes { ikm in
            try salt.withUnsafeBytes { salt in
                try info.withUnsafeBytes { info in
                    try LibCrypto.hkdfSHA256(key: ikm, salt: salt, info: info, count: 42)
                }
            }
        }
        XCTAssertEqual(
            okm.withUnsafeBytes { hexString($0) },
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    func testFileInspectionWithoutKey() throws {
        let directory = try temporaryDirectory()
        let encrypted = try writeFile(try encrypt([1, 2, 3]), in: directory, named: "snap.enc")
        let plain = try writeFile(Array("plain snapshot".utf8), in: directory, named: "snap.db")
        let tiny = try writeFile([0x43], in: directory, named: "tiny")
        let cutHeader = try writeFile(Array(try encrypt([]).prefix(30)), in: directory, named: "cut.enc")

        XCTAssertTrue(Envelope.isEncrypted(path: encrypted))
        XCTAssertFalse(Envelope.isEncrypted(path: plain))
        XCTAssertFalse(Envelope.isEncrypted(path: tiny))
        XCTAssertFalse(Envelope.isEncrypted(path: directory.appendingPathComponent("missing").path))

        XCTAssertEqual(try Envelope.keyFingerprint(path: encrypted), testKey.fingerprint)
        XCTAssertNil(try Envelope.keyFingerprint(path: plain))
        XCTAssertNil(try Envelope.keyFingerprint(path: tiny))
        XCTAssertThrowsError(try Envelope.keyFingerprint(path: cutHeader)) {
            XCTAssertEqual(($0 as? EnvelopeError)?.code, .truncated)
        }
        XCTAssertThrowsError(try Envelope.keyFingerprint(path: directory.appendingPathComponent("missing").path))
    }

    private func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).compactMap {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)
        }
    }
}
