import Foundation
import XCTest

@testable import Scheduler

final class CronNextFireTests: XCTestCase {
    /// 2026-01-01 is a Thursday; 2026-02-13, 2026-03-13 and 2026-11-13 are Fridays.
    func testFireTimesAwayFromClockChanges() throws {
        try FireTimeCase.check([
            FireTimeCase("* * * * *", "UTC", after: "2026-01-01T00:00:30Z",
                         ["2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"]),
            FireTimeCase("* * * * *", "UTC", after: "2026-12-31T23:59:00Z",
                         ["2027-01-01T00:00:00Z", "2027-01-01T00:01:00Z"]),
            FireTimeCase("*/15 * * * *", "UTC", after: "2026-01-01T23:50:00Z",
                         ["2026-01-02T00:00:00Z", "2026-01-02T00:15:00Z", "2026-01-02T00:30:00Z",
                          "2026-01-02T00:45:00Z", "2026-01-02T01:00:00Z"]),
            FireTimeCase("0 */6 * * *", "UTC", after: "2026-01-01T05:59:59Z",
                         ["2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z",
                          "2026-01-02T00:00:00Z"]),
            FireTimeCase("5,10-12 1-2 * * *", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-01T01:05:00Z", "2026-01-01T01:10:00Z", "2026-01-01T01:11:00Z",
                          "2026-01-01T01:12:00Z", "2026-01-01T02:05:00Z", "2026-01-01T02:10:00Z",
                          "2026-01-01T02:11:00Z", "2026-01-01T02:12:00Z", "2026-01-02T01:05:00Z"]),
            FireTimeCase("30/10 9 * * *", "UTC", after: "2026-01-01T09:35:00Z",
                         ["2026-01-01T09:40:00Z", "2026-01-01T09:50:00Z", "2026-01-02T09:30:00Z"]),
            // Weekdays at 09:00 New York time (EST, -05:00 in January).
            FireTimeCase("0 9 * * MON-FRI", "America/New_York", after: "2026-01-02T10:00:00-05:00",
                         ["2026-01-05T09:00:00-05:00", "2026-01-06T09:00:00-05:00", "2026-01-07T09:00:00-05:00",
                          "2026-01-08T09:00:00-05:00", "2026-01-09T09:00:00-05:00", "2026-01-12T09:00:00-05:00"]),
            FireTimeCase("0 0 1 JAN,JUL *", "UTC", after: "2026-03-01T00:00:00Z",
                         ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"]),
            // 7 is Sunday too; 2026-01-04 is a Sunday. Kolkata is +05:30 all year.
            FireTimeCase("0 12 * * 7", "Asia/Kolkata", after: "2026-01-01T00:00:00+05:30",
                         ["2026-01-04T12:00:00+05:30", "2026-01-11T12:00:00+05:30", "2026-01-18T12:00:00+05:30"]),
            FireTimeCase("30 9 * * *", "Asia/Kolkata", after: "2026-01-01T00:00:00Z",
                         ["2026-01-01T04:00:00Z", "2026-01-02T04:00:00Z"]),
            // Both day fields restricted: every 13th (2026-04-13 is a Monday) and every Friday.
            FireTimeCase("0 0 13 * FRI", "UTC", after: "2026-03-28T00:00:00Z",
                         ["2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z",
                          "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z"]),
            // cronie: `*/2` begins with `*`, so it sets DOM_STAR and both fields must match:
            // Mondays that fall on odd days.
            FireTimeCase("0 0 */2 * MON", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z",
                          "2026-02-23T00:00:00Z", "2026-03-09T00:00:00Z"]),
            // Written as a range it is restricted, so odd days OR Mondays.
            FireTimeCase("0 0 1-31/2 * MON", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-03T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z",
                          "2026-01-09T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z",
                          "2026-01-13T00:00:00Z"]),
            // Only one day field restricted: only it counts.
            FireTimeCase("0 0 * * FRI", "UTC", after: "2026-02-12T00:00:00Z",
                         ["2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"]),
            FireTimeCase("0 0 13 * *", "UTC", after: "2026-02-12T00:00:00Z",
                         ["2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z", "2026-04-13T00:00:00Z"]),
            FireTimeCase("@hourly", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]),
            FireTimeCase("@daily", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]),
            FireTimeCase("@midnight", "Europe/Berlin", after: "2026-01-01T00:00:00+01:00",
                         ["2026-01-02T00:00:00+01:00"]),
            FireTimeCase("@weekly", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]),
            FireTimeCase("@monthly", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]),
            FireTimeCase("@yearly", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]),
            FireTimeCase("@annually", "America/New_York", after: "2026-06-01T00:00:00-04:00",
                         ["2027-01-01T00:00:00-05:00"]),
            // Month end: only months with a 31st.
            FireTimeCase("0 0 31 * *", "UTC", after: "2026-01-31T00:00:00Z",
                         ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
                          "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z",
                          "2027-01-31T00:00:00Z"]),
            FireTimeCase("0 0 29 2 *", "UTC", after: "2026-01-01T00:00:00Z",
                         ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]),
            // 2100 is not a leap year: the longest gap there is, just under 8 years.
            FireTimeCase("0 0 29 2 *", "UTC", after: "2096-03-01T00:00:00Z", ["2104-02-29T00:00:00Z"]),
        ])
    }

    func testExpressionsThatNeverFireGiveNil() throws {
        let after = try Instants.parse("2026-01-01T00:00:00Z")
        for text in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 FEB *"] {
            for zoneName in ["UTC", "America/New_York"] {
                let zone = try Instants.zone(zoneName)
                XCTAssertNil(try CronExpression(parsing: text).nextFire(after: after, in: zone), "\(text) in \(zoneName)")
            }
        }
    }

    func testNextFireIsStrictlyAfterInstantEvenWithinTheSameMinute() throws {
        let everyMinute = try CronExpression(parsing: "* * * * *")
        let exact = try Instants.parse("2026-01-01T00:05:00Z")
        let utc = try Instants.zone("UTC")
        XCTAssertEqual(everyMinute.nextFire(after: exact, in: utc), try Instants.parse("2026-01-01T00:06:00Z"))
        XCTAssertEqual(
            everyMinute.nextFire(after: exact.addingTimeInterval(-0.001), in: utc), exact)
        XCTAssertEqual(
            everyMinute.nextFire(after: exact.addingTimeInterval(59.999), in: utc),
            try Instants.parse("2026-01-01T00:06:00Z"))
    }

    func testWorksBeforeNineteenSeventy() throws {
        try FireTimeCase.check([
            FireTimeCase("0 0 29 2 *", "UTC", after: "1899-01-01T00:00:00Z", ["1904-02-29T00:00:00Z"]),
            FireTimeCase("30 12 * * SUN", "UTC", after: "1969-12-31T23:59:59Z", ["1970-01-04T12:30:00Z"]),
        ])
    }

    func testNonFiniteOrFarInstantGivesNil() throws {
        let daily = try CronExpression(parsing: "@daily")
        let utc = try Instants.zone("UTC")
        XCTAssertNil(daily.nextFire(after: Date(timeIntervalSince1970: .infinity), in: utc))
        XCTAssertNil(daily.nextFire(after: Date(timeIntervalSince1970: .nan), in: utc))
        XCTAssertNil(daily.nextFire(after: Date(timeIntervalSince1970: 1e13), in: utc))
    }

    /// Cross-checks the field-skipping search against a plain minute-by-minute scan that
    /// reads each minute with Foundation's calendar, over ten days that include a month end,
    /// for expressions covering every field and both day rules.
    func testAgreesWithMinuteByMinuteScanInUTC() throws {
        let utc = try Instants.zone("UTC")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let start = try Instants.parse("2026-02-24T00:00:00Z")
        let minutes = 10 * 24 * 60
        let texts = [
            "* * * * *", "*/7 * * * *", "0 */5 * * *", "15,45 8-17 * * 1-5", "0 0 1 * *",
            "0 0 28-31 * *", "0 12 1 * MON", "0 12 */3 * FRI", "30 6 1-31/3 MAR *", "0 0 * 3 SAT-SUN",
            "59 23 28 2 *", "0 0 29 2 *",
        ]
        for text in texts {
            let expression = try CronExpression(parsing: text)
            var expected: [Date] = []
            for index in 1...minutes {
                let instant = start.addingTimeInterval(TimeInterval(index * 60))
                if WallClock(calendar.dateComponents(WallClock.components, from: instant)).isSelected(by: expression) {
                    expected.append(instant)
                }
            }
            let end = start.addingTimeInterval(TimeInterval(minutes * 60))
            let actual = try Instants.fires(of: text, in: utc, after: start, through: end)
            XCTAssertEqual(actual, expected, "\(text): \(actual.count) fires, scan found \(expected.count)")
        }
    }
}
