import Foundation
import XCTest

@testable import Scheduler

/// Clock changes used below (UTC offsets from tzdata):
/// - America/New_York 2026-03-08: 02:00 EST (-05:00) becomes 03:00 EDT (-04:00) at 07:00Z;
///   2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z, so 01:00-01:59 happens twice.
/// - Europe/Berlin 2026-03-29: 02:00 CET (+01:00) becomes 03:00 CEST (+02:00) at 01:00Z;
///   2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z, so 02:00-02:59 happens twice.
/// - Australia/Lord_Howe (half-hour shift) 2026-04-05: 02:00 (+11:00) becomes 01:30 (+10:30)
///   at 15:00Z on 04-04; 2026-10-04: 02:00 (+10:30) becomes 02:30 (+11:00) at 15:30Z on 10-03.
/// - Pacific/Apia 2011-12-30 never happened: 23:59:59 on 12-29 (-10:00) was followed by
///   00:00 on 12-31 (+14:00), at 10:00Z, a 24-hour jump that cronie treats as a clock reset.
final class CronDaylightSavingTests: XCTestCase {
    func testFixedTimeInSpringForwardGapFiresOnceRightAfterTheGap() throws {
        try FireTimeCase.check([
            FireTimeCase("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00-05:00",
                         ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
            FireTimeCase("0 2 * * *", "America/New_York", after: "2026-03-07T12:00:00-05:00",
                         ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"]),
            // 02:00 and 02:30 are both skipped; they and 03:00 make one fire, not three.
            FireTimeCase("0,30 2-3 * * *", "America/New_York", after: "2026-03-08T01:00:00-05:00",
                         ["2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:00:00-04:00"]),
            FireTimeCase("30 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00+01:00",
                         ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
            FireTimeCase("15 2 * * *", "Australia/Lord_Howe", after: "2026-10-03T12:00:00+10:30",
                         ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]),
            // The catch-up fire counts as the next fire only when it is after the instant.
            FireTimeCase("30 2 * * *", "America/New_York", after: "2026-03-08T03:00:00-04:00",
                         ["2026-03-09T02:30:00-04:00"]),
        ])
    }

    func testWildcardJobsSkipTimesThatDoNotExist() throws {
        try FireTimeCase.check([
            FireTimeCase("*/30 * * * *", "America/New_York", after: "2026-03-08T01:00:00-05:00",
                         ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]),
            FireTimeCase("0 * * * *", "America/New_York", after: "2026-03-08T00:30:00-05:00",
                         ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"]),
            FireTimeCase("30 * * * *", "America/New_York", after: "2026-03-08T01:00:00-05:00",
                         ["2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"]),
            FireTimeCase("*/30 * * * *", "Europe/Berlin", after: "2026-03-29T01:15:00+01:00",
                         ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"]),
            FireTimeCase("*/15 * * * *", "Australia/Lord_Howe", after: "2026-10-04T01:40:00+10:30",
                         ["2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"]),
            // Hour fixed but minute starred: still a wildcard job to cronie, so no catch-up.
            FireTimeCase("*/20 2 * * *", "America/New_York", after: "2026-03-08T00:00:00-05:00",
                         ["2026-03-09T02:00:00-04:00"]),
        ])
    }

    func testFixedTimeInFallBackOverlapFiresOnlyInFirstOccurrence() throws {
        try FireTimeCase.check([
            FireTimeCase("30 1 * * *", "America/New_York", after: "2026-10-31T12:00:00-04:00",
                         ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
            FireTimeCase("30 1 * * *", "America/New_York", after: "2026-11-01T01:10:00-05:00",
                         ["2026-11-02T01:30:00-05:00"]),
            FireTimeCase("30 2 * * *", "Europe/Berlin", after: "2026-10-24T12:00:00+02:00",
                         ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
            // 01:30 is before Berlin's repeated hour, so nothing special happens.
            FireTimeCase("30 1 * * *", "Europe/Berlin", after: "2026-10-24T12:00:00+02:00",
                         ["2026-10-25T01:30:00+02:00", "2026-10-26T01:30:00+01:00"]),
            FireTimeCase("45 1 * * *", "Australia/Lord_Howe", after: "2026-04-04T12:00:00+11:00",
                         ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]),
            FireTimeCase("@daily", "America/New_York", after: "2026-10-31T12:00:00-04:00",
                         ["2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"]),
        ])
    }

    func testWildcardJobsKeepTheirIntervalThroughBothOccurrences() throws {
        try FireTimeCase.check([
            FireTimeCase("0 * * * *", "America/New_York", after: "2026-10-31T23:30:00-04:00",
                         ["2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
                          "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"]),
            FireTimeCase("@hourly", "America/New_York", after: "2026-11-01T00:30:00-04:00",
                         ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]),
            FireTimeCase("*/30 * * * *", "America/New_York", after: "2026-11-01T00:45:00-04:00",
                         ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                          "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"]),
            FireTimeCase("*/30 * * * *", "Europe/Berlin", after: "2026-10-25T01:45:00+02:00",
                         ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                          "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]),
            FireTimeCase("0 * * * *", "Europe/Berlin", after: "2026-10-25T01:30:00+02:00",
                         ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]),
            FireTimeCase("*/15 * * * *", "Australia/Lord_Howe", after: "2026-04-05T01:20:00+11:00",
                         ["2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
                          "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"]),
            // Asked from inside the second occurrence, the wildcard job continues there.
            FireTimeCase("*/20 1 * * *", "America/New_York", after: "2026-11-01T01:05:00-05:00",
                         ["2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00", "2026-11-02T01:00:00-05:00"]),
        ])
    }

    func testClockResetOfADayIsNotCaughtUp() throws {
        try FireTimeCase.check([
            FireTimeCase("0 12 * * *", "Pacific/Apia", after: "2011-12-29T13:00:00-10:00",
                         ["2011-12-31T12:00:00+14:00"]),
            FireTimeCase("0 12 30 12 *", "Pacific/Apia", after: "2011-12-29T13:00:00-10:00",
                         ["2012-12-30T12:00:00+14:00"]),
        ])
    }

    /// Cross-checks `nextFire` against a tick-by-tick replay of cronie's daemon loop over 26
    /// hours around each clock change, for fixed-time and wildcard jobs of every shape,
    /// including the 3-hour shifts of Antarctica/Casey that sit on cronie's thresholds.
    func testAgreesWithCronieDaemonSimulationAroundClockChanges() throws {
        let windows: [(zone: String, change: String)] = [
            ("America/New_York", "2026-03-08T07:00:00Z"),
            ("America/New_York", "2026-11-01T06:00:00Z"),
            ("Europe/Berlin", "2026-03-29T01:00:00Z"),
            ("Europe/Berlin", "2026-10-25T01:00:00Z"),
            ("Australia/Lord_Howe", "2026-04-04T15:00:00Z"),
            ("Australia/Lord_Howe", "2026-10-03T15:30:00Z"),
            ("Pacific/Apia", "2011-12-30T10:00:00Z"),
            ("Antarctica/Casey", "2009-10-17T18:00:00Z"),
            ("Antarctica/Casey", "2010-03-04T15:00:00Z"),
            ("Asia/Kolkata", "2026-06-01T00:00:00Z"),
            ("UTC", "2026-01-01T00:00:00Z"),
        ]
        let texts = [
            "* * * * *", "*/15 * * * *", "*/30 * * * *", "0 * * * *", "30 * * * *", "@hourly",
            "*/10 2 * * *", "*/20 1 * * *", "30 2 * * *", "30 1 * * *", "0 2 * * *", "15 2 * * *",
            "45 1 * * *", "59 1 * * *", "0 3 * * *", "0 2-3 * * *", "0-59/20 2 * * *", "0,30 1-3 * * *",
            "@daily", "0 12 * * *", "0 0 1-7 * SUN", "30 2 * * SUN", "0 0 * * *", "0 4 * * *",
        ]
        let expressions = try texts.map { try CronExpression(parsing: $0) }
        var checkedWindows = 0
        for (zoneName, changeText) in windows {
            guard let zone = TimeZone(identifier: zoneName) else {
                print("skipping \(zoneName): zone not in this system's data")
                continue
            }
            let start = try Instants.parse(changeText).addingTimeInterval(-13 * 3_600)
            let minutes = 26 * 60
            let end = start.addingTimeInterval(TimeInterval(minutes * 60))
            let simulation = CronieDaemonSimulation(timeZone: zone, from: start, minutes: minutes)
            for (text, expression) in zip(texts, expressions) {
                let expected = simulation.fires(of: expression)
                let actual = try Instants.fires(of: text, in: zone, after: start, through: end)
                XCTAssertEqual(
                    actual.map { Instants.show($0, in: zone) }, expected.map { Instants.show($0, in: zone) },
                    "\(text) in \(zoneName) around \(changeText)")
            }
            checkedWindows += 1
        }
        XCTAssertGreaterThanOrEqual(checkedWindows, 6, "too few zones available to cross-check")
    }
}
