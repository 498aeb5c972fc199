import Foundation
import TestSupport
import XCTest

/// The data-dir holds every key, value and lease: etcd creates it readable by its owner only,
/// and so does cairn.
final class DataDirectoryTests: CompatibilityTestCase {
    func testDataDirIsCreatedPrivate() throws {
        var info = stat()
        XCTAssertEqual(stat(server.dataDirectory, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700, String(info.st_mode & 0o777, radix: 8))
        XCTAssertEqual(stat(server.dataDirectory + "/member", &info), 0)
        XCTAssertEqual(info.st_mode & 0o077, 0, String(info.st_mode & 0o777, radix: 8))
    }
}
