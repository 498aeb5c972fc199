import Foundation
@testable import Scheduler
import XCTest

final class RetentionPolicyTests: XCTestCase {
    func testDescriptionListsTheRulesThatAreSet() {
        let full = RetentionPolicy(retainLast: 24, hourly: 24, daily: 7, weekly: 4, monthly: 12)
        XCTAssertEqual(full.description, "last 24, hourly 24, daily 7, weekly 4, monthly 12")
        XCTAssertEqual(RetentionPolicy(daily: 0, monthly: 6).description, "daily 0, monthly 6")
        XCTAssertEqual(RetentionPolicy().description, "no retention policy")
    }

    func testOnlyAPolicyWithoutRulesIsEmpty() {
        XCTAssertTrue(RetentionPolicy().isEmpty)
        XCTAssertFalse(RetentionPolicy(retainLast: 0).isEmpty)
        XCTAssertFalse(RetentionPolicy(monthly: 1).isEmpty)
    }

    func testNegativeCountIsRejectedNamingTheRule() {
        XCTAssertNoThrow(try RetentionPolicy(retainLast: 0, hourly: 1, daily: 2, weekly: 3, monthly: 4).validate())
        do {
            try RetentionPolicy(daily: 7, weekly: -1).validate()
            XCTFail("a negative weekly count was accepted")
        } catch {
            XCTAssertEqual(error.code, .negativeCount)
            XCTAssertEqual(error.message, "retention policy: weekly is -1; a count must be 0 or more "
                + "(leave the rule out to not use it)")
        }
    }

    func testDecodingRejectsNegativeCountsAndRoundTripsValidOnes() throws {
        let policy = RetentionPolicy(retainLast: 3, daily: 7, monthly: 12)
        let decoded = try JSONDecoder().decode(RetentionPolicy.self, from: JSONEncoder().encode(policy))
        XCTAssertEqual(decoded, policy)
        XCTAssertEqual(try JSONDecoder().decode(RetentionPolicy.self, from: Data("{}".utf8)), RetentionPolicy())
        XCTAssertThrowsError(
            try JSONDecoder().decode(RetentionPolicy.self, from: Data(#"{"retainLast":-2}"#.utf8))
        ) { error in
            XCTAssertEqual((error as? RetentionPolicyError)?.code, .negativeCount)
        }
    }
}
