import XCTest
@testable import Storage

/// Foundation's `deletingLastPathComponent` traps on one-character names; PathText is what the
/// data-dir, snapshot and restore code use instead.
final class PathTextTests: XCTestCase {
    func testParentOfRelativeAbsoluteAndOneCharacterPaths() {
        XCTAssertEqual(PathText.parent(of: "d"), ".")
        XCTAssertEqual(PathText.parent(of: "default.cairn"), ".")
        XCTAssertEqual(PathText.parent(of: "a/d"), "a")
        XCTAssertEqual(PathText.parent(of: "/d"), "/")
        XCTAssertEqual(PathText.parent(of: "/var/lib/etcd"), "/var/lib")
    }
}
