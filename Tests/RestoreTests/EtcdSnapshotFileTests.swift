import Foundation
import XCTest

@testable import Restore

/// The SHA-256 trailer `etcdctl snapshot save` appends, checked with coreutils' sha256sum.
final class EtcdSnapshotFileTests: XCTestCase {
    func testSnapshotTrailerIsValid() throws {
        let (databaseBytes, trailer) = try EtcdSnapshotFile.inspect(path: Fixture.snapshotPath, sha256: Fixture.sha256)
        XCTAssertEqual(trailer, .valid)
        XCTAssertEqual(databaseBytes, try Fixture.expected().snapshotStatus.totalSize)
        XCTAssertEqual(try EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath), databaseBytes)
    }

    func testDamagedDatabaseIsATrailerMismatch() throws {
        var bytes = try Fixture.snapshotBytes()
        bytes[5000] ^= 0x01
        let trailerHex = bytes.suffix(32).map { String(format: "%02x", $0) }.joined()
        try Fixture.withTemporaryDirectory { directory in
            let path = try Fixture.write(bytes, named: "damaged.db", in: directory)
            let (_, trailer) = try EtcdSnapshotFile.inspect(path: path, sha256: Fixture.sha256)
            guard case .mismatch(let expected, let actual) = trailer else {
                return XCTFail("expected a mismatch, got \(trailer)")
            }
            XCTAssertEqual(expected, trailerHex)
            XCTAssertNotEqual(actual, expected)
        }
    }

    func testPlainBoltFileHasNoTrailerAndOpensWhole() throws {
        let bytes = try Fixture.snapshotBytes()
        try Fixture.withTemporaryDirectory { directory in
            let path = try Fixture.write(Array(bytes.dropLast(32)), named: "member-snap.db", in: directory)
            let (databaseBytes, trailer) = try EtcdSnapshotFile.inspect(path: path, sha256: Fixture.sha256)
            XCTAssertEqual(trailer, .absent)
            XCTAssertEqual(databaseBytes, bytes.count - 32)
            XCTAssertEqual(try BoltFile(path: path).lengthBytes, databaseBytes)
        }
    }

    func testSnapshotOpensWithOrWithoutTheLengthLimit() throws {
        let limited = try BoltFile(path: Fixture.snapshotPath, lengthBytes: EtcdSnapshotFile.databaseBytes(path: Fixture.snapshotPath))
        let whole = try BoltFile(path: Fixture.snapshotPath)
        XCTAssertEqual(whole.lengthBytes - limited.lengthBytes, EtcdSnapshotFile.trailerBytes)
        XCTAssertEqual(try whole.bucketNames(), try limited.bucketNames())
    }
}
