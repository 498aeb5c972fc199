import Foundation
import Raft
@testable import Scheduler
import XCTest

/// Small hand-computed plans, exact down to every reason.
final class RetentionExampleTests: XCTestCase {
    private let utc = TimeZone(identifier: "UTC")!

    /// Ten snapshots over three days; policy `last 3, daily 2`.
    ///
    ///     s10 11-24 23:00 failed   last 3 (#1)
    ///     s09 11-24 18:00 failed   last 3 (#2)
    ///     s08 11-24 12:00          newest verified, last 3 (#3), daily 2026-11-24
    ///     s07 11-24 06:00          deleted: 11-24 already has s08
    ///     s06 11-23 20:00 failed   deleted: cannot fill 11-23
    ///     s05 11-23 14:00          daily 2026-11-23
    ///     s04…s01                  deleted: only two days are kept
    func testLastThreeAndDailyTwoOverThreeDays() {
        let records = [
            record("s01", "2026-11-22T08:00:00Z"), record("s02", "2026-11-22T14:00:00Z"),
            record("s03", "2026-11-22T20:00:00Z"), record("s04", "2026-11-23T08:00:00Z"),
            record("s05", "2026-11-23T14:00:00Z"), record("s06", "2026-11-23T20:00:00Z", verified: false),
            record("s07", "2026-11-24T06:00:00Z"), record("s08", "2026-11-24T12:00:00Z"),
            record("s09", "2026-11-24T18:00:00Z", verified: false),
            record("s10", "2026-11-24T23:00:00Z", verified: false),
        ]
        let plan = Retention.plan(records, policy: RetentionPolicy(retainLast: 3, daily: 2), timeZone: utc)
        let outside = ["outside every retention rule"]
        assertPlan(plan, keep: [
            ("s10", ["last 3 (#1)"]),
            ("s09", ["last 3 (#2)"]),
            ("s08", ["newest verified", "last 3 (#3)", "daily 2026-11-24"]),
            ("s05", ["daily 2026-11-23"]),
        ], delete: [
            ("s07", outside),
            ("s06", ["failed verification and outside every retention rule"]),
            ("s04", outside), ("s03", outside), ("s02", outside), ("s01", outside),
        ])
    }

    func testEmptyPolicyKeepsEverything() {
        let records = [
            record("a", "2026-01-01T00:00:00Z"), record("b", "2026-01-02T00:00:00Z"),
            record("c", "2026-01-03T00:00:00Z", verified: false),
        ]
        let plan = Retention.plan(records, policy: RetentionPolicy(), timeZone: utc)
        assertPlan(plan, keep: [
            ("c", ["no retention policy"]),
            ("b", ["newest verified", "no retention policy"]),
            ("a", ["no retention policy"]),
        ], delete: [])
    }

    func testNewestVerifiedIsKeptWhenEveryRuleIsZero() {
        let records = [
            record("old", "2026-01-01T00:00:00Z"), record("good", "2026-01-02T00:00:00Z"),
            record("bad", "2026-01-03T00:00:00Z", verified: false),
        ]
        let policy = RetentionPolicy(retainLast: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0)
        XCTAssertFalse(policy.isEmpty)
        assertPlan(Retention.plan(records, policy: policy, timeZone: utc), keep: [
            ("good", ["newest verified"]),
        ], delete: [
            ("bad", ["failed verification and outside every retention rule"]),
            ("old", ["outside every retention rule"]),
        ])
    }

    func testNewestSnapshotIsKeptWhenNoneIsVerified() {
        let records = [
            record("x1", "2026-05-01T00:00:00Z", verified: false),
            record("x2", "2026-05-02T00:00:00Z", verified: false),
        ]
        let plan = Retention.plan(records, policy: RetentionPolicy(daily: 7, monthly: 12), timeZone: utc)
        assertPlan(plan, keep: [
            ("x2", ["newest snapshot (none verified)"]),
        ], delete: [
            ("x1", ["failed verification and outside every retention rule"]),
        ])
    }

    func testFailedSnapshotsNeverFillABucket() {
        let records = [
            record("mon", "2026-06-01T12:00:00Z"),
            record("tue-good", "2026-06-02T09:00:00Z"),
            record("tue-bad", "2026-06-02T18:00:00Z", verified: false),
            record("wed-bad", "2026-06-03T12:00:00Z", verified: false),
        ]
        let plan = Retention.plan(records, policy: RetentionPolicy(daily: 2), timeZone: utc)
        assertPlan(plan, keep: [
            ("tue-good", ["newest verified", "daily 2026-06-02"]),
            ("mon", ["daily 2026-06-01"]),
        ], delete: [
            ("wed-bad", ["failed verification and outside every retention rule"]),
            ("tue-bad", ["failed verification and outside every retention rule"]),
        ])
    }

    func testDailyBucketsFollowTheGivenTimeZone() {
        let records = [record("late", "2026-11-24T23:30:00Z"), record("early", "2026-11-25T00:30:00Z")]
        let policy = RetentionPolicy(daily: 2)
        assertPlan(Retention.plan(records, policy: policy, timeZone: utc), keep: [
            ("early", ["newest verified", "daily 2026-11-25"]),
            ("late", ["daily 2026-11-24"]),
        ], delete: [])
        // 18:30 and 19:30 on the 24th in New York: one day, one snapshot.
        let newYork = TimeZone(identifier: "America/New_York")!
        assertPlan(Retention.plan(records, policy: policy, timeZone: newYork), keep: [
            ("early", ["newest verified", "daily 2026-11-24"]),
        ], delete: [
            ("late", ["outside every retention rule"]),
        ])
    }

    /// 2026 starts on a Thursday, so it has 53 ISO weeks and 2027-01-01..03 still belong to 2026-W53.
    func testWeeklyBucketsUseISOWeekYearsAcrossNewYear() {
        let records = [
            record("2026-12-27-sun", "2026-12-27T12:00:00Z"), record("2026-12-28-mon", "2026-12-28T12:00:00Z"),
            record("2026-12-31-thu", "2026-12-31T12:00:00Z"), record("2027-01-01-fri", "2027-01-01T12:00:00Z"),
            record("2027-01-03-sun", "2027-01-03T12:00:00Z"), record("2027-01-04-mon", "2027-01-04T12:00:00Z"),
        ]
        let plan = Retention.plan(records, policy: RetentionPolicy(weekly: 3), timeZone: utc)
        let outside = ["outside every retention rule"]
        assertPlan(plan, keep: [
            ("2027-01-04-mon", ["newest verified", "weekly 2027-W01"]),
            ("2027-01-03-sun", ["weekly 2026-W53"]),
            ("2026-12-27-sun", ["weekly 2026-W52"]),
        ], delete: [
            ("2027-01-01-fri", outside), ("2026-12-31-thu", outside), ("2026-12-28-mon", outside),
        ])
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = utc
        for (text, weekYear, week) in [
            ("2026-12-31T12:00:00Z", 2026, 53), ("2027-01-01T12:00:00Z", 2026, 53), ("2027-01-04T00:00:00Z", 2027, 1),
        ] {
            let fields = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date(text))
            XCTAssertEqual(fields.yearForWeekOfYear, weekYear, text)
            XCTAssertEqual(fields.weekOfYear, week, text)
        }
    }

    /// New York's clocks go back at 2026-11-01 02:00 EDT: 01:30 happens twice, in one local hour.
    func testRepeatedHourWhenClocksGoBackIsOneBucket() {
        let records = [
            record("00-30-edt", "2026-11-01T04:30:00Z"), record("01-30-edt", "2026-11-01T05:30:00Z"),
            record("01-30-est", "2026-11-01T06:30:00Z"), record("02-30-est", "2026-11-01T07:30:00Z"),
        ]
        let plan = Retention.plan(
            records, policy: RetentionPolicy(hourly: 3), timeZone: TimeZone(identifier: "America/New_York")!)
        assertPlan(plan, keep: [
            ("02-30-est", ["newest verified", "hourly 2026-11-01 02:00"]),
            ("01-30-est", ["hourly 2026-11-01 01:00"]),
            ("00-30-edt", ["hourly 2026-11-01 00:00"]),
        ], delete: [
            ("01-30-edt", ["outside every retention rule"]),
        ])
    }

    func testEveryRuleAddsItsReasonToTheSameSnapshot() {
        let records = [record("prev-month", "2026-10-31T22:00:00Z"), record("now", "2026-11-24T13:05:00Z")]
        let policy = RetentionPolicy(retainLast: 1, hourly: 1, daily: 1, weekly: 1, monthly: 2)
        assertPlan(Retention.plan(records, policy: policy, timeZone: utc), keep: [
            ("now", ["newest verified", "last 1 (#1)", "hourly 2026-11-24 13:00", "daily 2026-11-24",
                     "weekly 2026-W48", "monthly 2026-11"]),
            ("prev-month", ["monthly 2026-10"]),
        ], delete: [])
    }

    /// Equal instants order by name, the later name counting as newer, whatever the input order.
    func testTiesInCreationTimeAreBrokenByNameWhateverTheInputOrder() {
        let records = [
            record("snap-a", "2026-03-01T10:00:00Z"), record("snap-b", "2026-03-01T10:00:00Z"),
            record("snap-c", "2026-03-01T10:00:00Z", verified: false), record("snap-0", "2026-03-01T09:00:00Z"),
        ]
        let policy = RetentionPolicy(retainLast: 1, hourly: 2)
        let expected = Retention.plan(records, policy: policy, timeZone: utc)
        assertPlan(expected, keep: [
            ("snap-c", ["last 1 (#1)"]),
            ("snap-b", ["newest verified", "hourly 2026-03-01 10:00"]),
            ("snap-0", ["hourly 2026-03-01 09:00"]),
        ], delete: [
            ("snap-a", ["outside every retention rule"]),
        ])
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20 {
            XCTAssertEqual(Retention.plan(records.shuffled(using: &rng), policy: policy, timeZone: utc), expected)
        }
    }

    func testNoSnapshotsGiveAnEmptyPlan() {
        let plan = Retention.plan([], policy: RetentionPolicy(retainLast: 3), timeZone: utc)
        XCTAssertTrue(plan.keep.isEmpty)
        XCTAssertTrue(plan.delete.isEmpty)
    }

    private func record(_ name: String, _ text: String, verified: Bool = true) -> SnapshotRecord {
        SnapshotRecord(name: name, createdAt: date(text), verified: verified, sizeBytes: 1_024)
    }

    private func date(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    private func assertPlan(
        _ plan: RetentionPlan, keep: [(String, [String])], delete: [(String, [String])],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(plan.keep.map(\.record.name), keep.map(\.0), "kept", file: file, line: line)
        XCTAssertEqual(plan.keep.map(\.reasons), keep.map(\.1), "kept reasons", file: file, line: line)
        XCTAssertEqual(plan.delete.map(\.record.name), delete.map(\.0), "deleted", file: file, line: line)
        XCTAssertEqual(plan.delete.map(\.reasons), delete.map(\.1), "deleted reasons", file: file, line: line)
    }
}
