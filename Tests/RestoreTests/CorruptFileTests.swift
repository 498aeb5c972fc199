import Foundation
import Raft
import XCTest

@testable import Restore

/// Damaged, truncated and foreign files: every one must throw a ``BoltError`` that names the
/// file (and the page and offset where structure is at fault), never crash or hang.
final class CorruptFileTests: XCTestCase {
    private static let pageSize = 4096

    /// Where the fixture's key bucket lives, found with the reader on the undamaged file.
    private struct Layout {
        let databaseBytes: Int
        let keyRootPgid: UInt64
        let firstLeafPgid: UInt64
    }

    private func layout() throws -> Layout {
        let databaseBytes = try EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath)
        let file = try MappedFile(path: Fixture.snapshotPath, lengthBytes: databaseBytes)
        let reader = BoltReader(file: file, meta: try BoltMeta.select(in: file))
        let keyRoot = try reader.bucket(at: ["key"])
        XCTAssertEqual(keyRoot.kind, .branch)
        let firstLeaf = try keyRoot.branchElement(0, in: file).child
        return Layout(databaseBytes: databaseBytes, keyRootPgid: keyRoot.pgid, firstLeafPgid: firstLeaf)
    }

    /// Reads everything the library can read; throws the first error.
    private func readEverything(_ path: String) throws {
        let file = try BoltFile(path: path)
        for name in try file.bucketNames() {
            try file.forEach(bucket: name) { _, _ in true }
            try file.forEach(bucket: name, reverse: true) { _, _ in true }
        }
        let backend = EtcdBackend(file: file)
        try backend.forEachKeyVersion { _ in true }
        try backend.forEachLease { _, _ in true }
        try backend.forEachMember { _, _ in true }
        _ = try backend.latestRevision()
        _ = try backend.consistentIndex()
        _ = try backend.term()
        _ = try backend.finishedCompactRevision()
        _ = try backend.scheduledCompactRevision()
    }

    /// Writes `bytes`, reads everything and returns the BoltError it must throw.
    private func expectBoltError(
        _ bytes: [UInt8], code: BoltError.Code, mentioning fragments: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        try Fixture.withTemporaryDirectory { directory in
            let path = try Fixture.write(bytes, named: "damaged.db", in: directory)
            do {
                try readEverything(path)
                XCTFail("read a damaged file without error", file: file, line: line)
            } catch let error as BoltError {
                XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
                for fragment in [path] + fragments {
                    XCTAssertTrue(error.message.contains(fragment), "'\(fragment)' not in: \(error)", file: file, line: line)
                }
            }
        }
    }

    private func put(_ value: UInt64, at offset: Int, bytes count: Int, in bytes: inout [UInt8]) {
        for index in 0..<count {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
        }
    }

    private func databaseBytes() throws -> [UInt8] {
        Array(try Fixture.snapshotBytes().prefix(try layout().databaseBytes))
    }

    func testEmptyFileIsNotBolt() throws {
        try expectBoltError([], code: .notBolt, mentioning: ["empty"])
    }

    func testRandomGarbageIsNotBolt() throws {
        var generator = SplitMix64(seed: 42)
        let garbage = (0..<(64 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try expectBoltError(garbage, code: .notBolt, mentioning: ["magic"])
    }

    func testFewBytesAreNotBolt() throws {
        try expectBoltError(Array(try databaseBytes().prefix(50)), code: .notBolt)
    }

    func testTruncatedFileIsCorrupt() throws {
        let bytes = try databaseBytes()
        try expectBoltError(Array(bytes.prefix(bytes.count / 2)), code: .corrupt, mentioning: ["truncated"])
        try expectBoltError(Array(bytes.prefix(100)), code: .corrupt, mentioning: ["truncated"])
    }

    func testDamagedFirstMetaFallsBackToTheSecond() throws {
        var bytes = try databaseBytes()
        let pristine = try BoltFile(path: Fixture.snapshotPath)
        bytes[16 + 20] ^= 0xff
        try Fixture.withTemporaryDirectory { directory in
            let path = try Fixture.write(bytes, named: "meta0.db", in: directory)
            let file = try BoltFile(path: path)
            XCTAssertEqual(file.txid, pristine.txid - 1, "snapshot writers give page 1 the previous txid")
            try readEverything(path)
        }
    }

    func testBothMetasDamagedIsCorrupt() throws {
        var bytes = try databaseBytes()
        bytes[16 + 20] ^= 0xff
        bytes[Self.pageSize + 16 + 20] ^= 0xff
        try expectBoltError(bytes, code: .corrupt, mentioning: ["no valid meta page", "checksum"])
    }

    func testMetaRootPastEndOfFileIsCorrupt() throws {
        var bytes = try databaseBytes()
        for offset in [0, Self.pageSize] {
            let meta = offset + 16
            put(1_000_000, at: meta + 16, bytes: 8, in: &bytes)
            put(fnv1a64(bytes[meta..<(meta + 56)]), at: meta + 56, bytes: 8, in: &bytes)
        }
        try expectBoltError(bytes, code: .corrupt, mentioning: ["root page id 1000000"])
    }

    func testBranchChildPastEndOfFileIsCorrupt() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        let element = Int(layout.keyRootPgid) * Self.pageSize + 16
        put(0xFFFF_FFFF, at: element + 8, bytes: 8, in: &bytes)
        try expectBoltError(bytes, code: .corrupt, mentioning: ["page id 4294967295", "page \(layout.keyRootPgid)", "beyond"])
    }

    func testBranchPointingAtItselfIsCorruptNotAHang() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        let element = Int(layout.keyRootPgid) * Self.pageSize + 16
        put(layout.keyRootPgid, at: element + 8, bytes: 8, in: &bytes)
        try expectBoltError(bytes, code: .corrupt, mentioning: ["page \(layout.keyRootPgid)"])
    }

    func testLeafElementOutsideItsPageIsCorrupt() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        let element = Int(layout.firstLeafPgid) * Self.pageSize + 16
        put(0x00FF_FFFF, at: element + 4, bytes: 4, in: &bytes)
        try expectBoltError(
            bytes, code: .corrupt, mentioning: ["page \(layout.firstLeafPgid)", "offset \(element)", "past the node end"])
    }

    func testUnexpectedPageFlagsAreCorrupt() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        put(0x10, at: Int(layout.firstLeafPgid) * Self.pageSize + 8, bytes: 2, in: &bytes)
        try expectBoltError(bytes, code: .corrupt, mentioning: ["page \(layout.firstLeafPgid)", "flags 0x10"])
    }

    func testPageWhoseIdDisagreesIsCorrupt() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        put(7, at: Int(layout.firstLeafPgid) * Self.pageSize, bytes: 8, in: &bytes)
        try expectBoltError(bytes, code: .corrupt, mentioning: ["identifies itself as page 7"])
    }

    func testMalformedRevisionKeyIsReportedInHex() throws {
        let layout = try layout()
        var bytes = try databaseBytes()
        // The first leaf's first key is the oldest revision; its '_' separator sits 8 bytes in.
        let element = Int(layout.firstLeafPgid) * Self.pageSize + 16
        let keyOffset = element + Int(bytes[(element + 4)..<(element + 8)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        bytes[keyOffset + 8] = UInt8(ascii: "x")
        let keyHex = bytes[keyOffset..<(keyOffset + 17)].map { String(format: "%02x", $0) }.joined()
        try expectBoltError(bytes, code: .corrupt, mentioning: ["bucket 'key'", keyHex])
    }

    /// Seeded random damage anywhere past the meta pages: either the read succeeds (the damage hit
    /// values or free pages) or it throws a BoltError; a crash or hang fails the whole run.
    func testRandomDamageNeverCrashesOrHangs() throws {
        let pristine = try databaseBytes()
        var generator = SplitMix64(seed: 2024)
        var thrown = 0
        try Fixture.withTemporaryDirectory { directory in
            for _ in 0..<300 {
                var bytes = pristine
                for _ in 0..<4 {
                    let offset = 2 * Self.pageSize + Int(generator.next() % UInt64(pristine.count - 2 * Self.pageSize))
                    bytes[offset] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                }
                let path = try Fixture.write(bytes, named: "fuzz.db", in: directory)
                do {
                    try readEverything(path)
                } catch is BoltError {
                    thrown += 1
                }
            }
        }
        XCTAssertGreaterThan(thrown, 0, "some damage lands in page headers and element tables")
    }

    private func fnv1a64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }
}
