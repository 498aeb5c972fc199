import Storage
import XCTest

final class FailpointTests: XCTestCase {
    func testNamesAreParsedAndAnUnknownOneIsNamedInTheError() throws {
        XCTAssertEqual(try Failpoint.parse(""), [])
        XCTAssertEqual(try Failpoint.parse(" skip-read-index ,"), [.skipReadIndex])
        XCTAssertThrowsError(try Failpoint.parse("skip-read-index,crash-everything")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("'crash-everything'"), text)
            XCTAssertTrue(text.contains("known: skip-read-index"), text)
        }
        XCTAssertFalse(Failpoint.skipReadIndex.isActive, "the test process runs without failpoints")
    }
}
