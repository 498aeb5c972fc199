import Foundation
import Raft
import XCTest

/// The test oracle's ISO 8601 weeks agree with Foundation's ISO 8601 calendar, so the property
/// tests check the library against two independent computations that agree.
final class PeriodOracleTests: XCTestCase {
    func testISOWeeksMatchFoundationsISO8601CalendarAcrossYearBoundaries() {
        var rng = SplitMix64(seed: 2026)
        for zone in ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Chatham"] {
            let timeZone = TimeZone(identifier: zone)!
            var iso = Calendar(identifier: .iso8601)
            iso.timeZone = timeZone
            let gregorian = PeriodOracle.calendar(in: timeZone)
            for sample in 0..<2_000 {
                // Half the samples within three days of a New Year, where week-years differ.
                let year = Int.random(in: 1950...2100, using: &rng)
                let date = sample.isMultiple(of: 2)
                    ? gregorian.date(from: DateComponents(year: year, month: 1, day: 1))!
                        .addingTimeInterval(Double.random(in: -3 * 86_400..<3 * 86_400, using: &rng))
                    : Date(timeIntervalSince1970: Double.random(in: -631_152_000..<4_102_444_800, using: &rng))
                let fields = gregorian.dateComponents([.year, .month, .day], from: date)
                let oracle = PeriodOracle.isoWeek(year: fields.year!, month: fields.month!, day: fields.day!)
                let foundation = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
                XCTAssertEqual(oracle.weekYear, foundation.yearForWeekOfYear, "\(date) in \(zone)")
                XCTAssertEqual(oracle.week, foundation.weekOfYear, "\(date) in \(zone)")
            }
        }
    }

    func testYearsStartingOnThursdayHaveFiftyThreeWeeks() {
        XCTAssertEqual(PeriodOracle.weeksInYear(2026), 53)
        XCTAssertEqual(PeriodOracle.weeksInYear(2020), 53)
        XCTAssertEqual(PeriodOracle.weeksInYear(2027), 52)
        XCTAssertEqual(PeriodOracle.isoWeek(year: 2026, month: 12, day: 31).week, 53)
        XCTAssertTrue(PeriodOracle.isoWeek(year: 2027, month: 1, day: 1) == (2026, 53))
        XCTAssertTrue(PeriodOracle.isoWeek(year: 2024, month: 12, day: 30) == (2025, 1))
    }
}
