import Foundation
import Storage
import XCTest

@testable import Restore

/// The bbolt layer over the real etcd snapshot: meta selection, buckets, ordering, lookups.
final class BoltFileTests: XCTestCase {
    private func open() throws -> BoltFile {
        try BoltFile(path: Fixture.snapshotPath, lengthBytes: EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath))
    }

    private func keyBucketEntries(_ file: BoltFile, reverse: Bool = false) throws -> [([UInt8], [UInt8])] {
        var entries: [([UInt8], [UInt8])] = []
        try file.forEach(bucket: "key", reverse: reverse) { key, value in
            entries.append((key, value))
            return true
        }
        return entries
    }

    func testSelectsTheNewerOfTheTwoMetaPages() throws {
        let bytes = try Fixture.snapshotBytes()
        func txid(ofMetaAt offset: Int) -> UInt64 {
            bytes[(offset + 16 + 48)..<(offset + 16 + 56)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let file = try open()
        XCTAssertEqual(file.pageSize, 4096)
        XCTAssertEqual(file.txid, max(txid(ofMetaAt: 0), txid(ofMetaAt: 4096)))
        XCTAssertGreaterThan(file.txid, 1)
        XCTAssertEqual(file.lengthBytes, try Fixture.expected().snapshotStatus.totalSize)
    }

    func testBucketNamesIncludeEtcdsBuckets() throws {
        let names = try open().bucketNames()
        XCTAssertTrue(Set(["key", "meta", "lease", "members"]).isSubset(of: Set(names)), "\(names)")
        XCTAssertEqual(names, names.sorted(), "buckets come in key order")
        XCTAssertTrue(try open().hasBucket("lease"))
        XCTAssertFalse(try open().hasBucket("leases"))
    }

    func testFixtureCoversBranchPagesInlineBucketsAndOverflowPages() throws {
        let file = try MappedFile(path: Fixture.snapshotPath, lengthBytes: nil)
        let reader = BoltReader(file: file, meta: try BoltMeta.select(in: file))
        XCTAssertEqual(try reader.bucket(at: ["key"]).kind, .branch)
        XCTAssertTrue(try reader.bucket(at: ["members"]).isInline)
        var largestNodeBytes = 0
        try reader.walk(from: try reader.bucket(at: ["key"]), reverse: false) { node, _ in
            largestNodeBytes = max(largestNodeBytes, node.bytes.count)
            return true
        }
        XCTAssertGreaterThan(largestNodeBytes, 25 * 4096, "the 100 KiB value sits on a leaf with overflow pages")
    }

    func testReverseIterationIsForwardIterationBackwards() throws {
        let file = try open()
        let forward = try keyBucketEntries(file)
        let backward = try keyBucketEntries(file, reverse: true)
        XCTAssertGreaterThan(forward.count, 200)
        XCTAssertEqual(forward.map(\.0), backward.reversed().map(\.0))
    }

    /// `etcdctl snapshot status` hashes bucket names, keys and values of every bucket with CRC-32C
    /// through bbolt's own reader; the same walk through this reader must give the same numbers.
    func testEveryByteReadsAsEtcdctlSnapshotStatusReadsIt() throws {
        let expected = try Fixture.expected().snapshotStatus
        let file = try open()
        var crc = CRC32C()
        var totalKey = 0
        var revision: Int64 = 0
        for name in try file.bucketNames() {
            crc.update(Array(name.utf8))
            try file.forEach(bucket: name) { key, value in
                crc.update(key)
                crc.update(value)
                totalKey += 1
                if name == "key" {
                    revision = Int64(bitPattern: key.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
                }
                return true
            }
        }
        XCTAssertEqual(crc.value, expected.hash)
        XCTAssertEqual(totalKey, expected.totalKey)
        XCTAssertEqual(revision, expected.revision)
    }

    func testForEachStopsWhenBodyReturnsFalse() throws {
        var seen = 0
        try open().forEach(bucket: "key") { _, _ in
            seen += 1
            return seen < 3
        }
        XCTAssertEqual(seen, 3)
    }

    func testLookupFindsEveryKeyAndNoOther() throws {
        let file = try open()
        for (key, value) in try keyBucketEntries(file) {
            XCTAssertEqual(try file.value(forKey: key, inBucket: "key"), value)
        }
        XCTAssertNil(try file.value(forKey: [0], inBucket: "key"))
        XCTAssertNil(try file.value(forKey: [0xff, 0xff], inBucket: "key"))
        XCTAssertNil(try file.value(forKey: Array("nope".utf8), inBucket: "meta"))
    }

    func testMissingBucketThrowsInsteadOfIteratingNothing() throws {
        XCTAssertThrowsError(try open().forEach(bucket: "no-such-bucket") { _, _ in true }) { error in
            XCTAssertEqual((error as? BoltError)?.code, .missingBucket)
            XCTAssertTrue("\(error)".contains("no-such-bucket"), "\(error)")
        }
    }

    func testClosedFileThrowsIO() throws {
        let file = try open()
        file.close()
        file.close()
        XCTAssertThrowsError(try file.bucketNames()) { error in
            XCTAssertEqual((error as? BoltError)?.code, .io)
        }
    }

    func testLengthLimitBeyondTheFileThrowsIO() throws {
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: Fixture.snapshotPath)[.size] as? Int)
        XCTAssertThrowsError(try BoltFile(path: Fixture.snapshotPath, lengthBytes: size + 1)) { error in
            XCTAssertEqual((error as? BoltError)?.code, .io)
        }
        XCTAssertThrowsError(try BoltFile(path: Fixture.directory.path)) { error in
            XCTAssertEqual((error as? BoltError)?.code, .io, "a directory is not a regular file")
        }
    }
}
