import Foundation
import XCTest
@testable import Server

final class TokenKeeperTests: XCTestCase {
    func testTokensNameTheirUserUntilRevoked() {
        let keeper = TokenKeeper(ttl: .seconds(300))
        keeper.issue("a.1", to: "alice")
        keeper.issue("a.2", to: "alice")
        keeper.issue("b.3", to: "bob")
        XCTAssertEqual(keeper.user(of: "a.1"), "alice")
        XCTAssertNil(keeper.user(of: "unknown"))
        keeper.revoke(user: "alice")
        XCTAssertNil(keeper.user(of: "a.1"))
        XCTAssertNil(keeper.user(of: "a.2"))
        XCTAssertEqual(keeper.user(of: "b.3"), "bob")
        keeper.revokeAll()
        XCTAssertNil(keeper.user(of: "b.3"))
    }

    func testEachUseRestartsTheTTLAndAnUnusedTokenExpires() {
        let keeper = TokenKeeper(ttl: .milliseconds(500))
        keeper.issue("t.1", to: "alice")
        // Used every 50 ms for 1.2 s: it outlives its TTL twice over.
        let start = ContinuousClock.now
        while ContinuousClock.now < start + .milliseconds(1200) {
            XCTAssertEqual(keeper.user(of: "t.1"), "alice")
            Thread.sleep(forTimeInterval: 0.05)
        }
        let lastUse = ContinuousClock.now
        XCTAssertEqual(keeper.user(of: "t.1"), "alice")
        while ContinuousClock.now < lastUse + .milliseconds(600) { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertNil(keeper.user(of: "t.1"), "unused for longer than its TTL")
    }

    func testPrefixesAreSixteenLettersAndDiffer() {
        let first = TokenKeeper.newPrefix()
        XCTAssertEqual(first.count, 16)
        XCTAssertTrue(first.allSatisfy(\.isLetter))
        XCTAssertNotEqual(first, TokenKeeper.newPrefix())
    }
}
