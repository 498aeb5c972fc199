import Foundation
@testable import Scheduler

/// The periods a snapshot falls in, computed independently of the library so the tests check it
/// rather than repeat it: Gregorian fields from Foundation, ISO 8601 weeks by arithmetic.
///
/// Each period is named exactly as a kept snapshot's reason names it ("daily 2026-11-24").
enum PeriodOracle: CaseIterable {
    case hourly
    case daily
    case weekly
    case monthly

    /// How many periods of this kind `policy` keeps; `nil` when the rule is not set.
    func count(in policy: RetentionPolicy) -> Int? {
        switch self {
        case .hourly: policy.hourly
        case .daily: policy.daily
        case .weekly: policy.weekly
        case .monthly: policy.monthly
        }
    }

    /// The names of the four periods `date` falls in, in `allCases` order.
    static func labels(of date: Date, calendar: Calendar) -> [String] {
        let fields = calendar.dateComponents([.year, .month, .day, .hour], from: date)
        let (year, month, day, hour) = (fields.year!, fields.month!, fields.day!, fields.hour!)
        let (weekYear, week) = isoWeek(year: year, month: month, day: day)
        let yearMonth = "\(year)-\(pad(month))"
        return [
            "hourly \(yearMonth)-\(pad(day)) \(pad(hour)):00",
            "daily \(yearMonth)-\(pad(day))",
            "weekly \(weekYear)-W\(pad(week))",
            "monthly \(yearMonth)",
        ]
    }

    /// A Gregorian calendar in `timeZone`, for `labels(of:calendar:)`.
    static func calendar(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The ISO 8601 week-numbering year and week of a Gregorian date: week 1 is the Monday-first
    /// week holding the year's first Thursday.
    static func isoWeek(year: Int, month: Int, day: Int) -> (weekYear: Int, week: Int) {
        let days = daysFromCivil(year: year, month: month, day: day)
        let ordinal = days - daysFromCivil(year: year, month: 1, day: 1) + 1
        let week = (ordinal - isoWeekday(days: days) + 10) / 7
        if week < 1 { return (year - 1, weeksInYear(year - 1)) }
        if week > weeksInYear(year) { return (year + 1, 1) }
        return (year, week)
    }

    /// 53 when the year starts on a Thursday, or on a Wednesday in a leap year; else 52.
    static func weeksInYear(_ year: Int) -> Int {
        let januaryFirst = isoWeekday(days: daysFromCivil(year: year, month: 1, day: 1))
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return januaryFirst == 4 || (leap && januaryFirst == 3) ? 53 : 52
    }

    /// Monday 1 ... Sunday 7; day 0 (1970-01-01) was a Thursday.
    private static func isoWeekday(days: Int) -> Int {
        ((days % 7 + 7 + 3) % 7) + 1
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
