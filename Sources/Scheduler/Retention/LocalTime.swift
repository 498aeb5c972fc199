import Foundation

/// The calendar fields that name the hour, day, ISO week and month an instant falls in, read
/// once per snapshot so that every rule groups by the same wall clock.
struct LocalTime: Hashable {
    let year: Int
    let month: Int
    let day: Int
    let hour: Int
    /// The ISO 8601 week-numbering year, which differs from `year` in the first and last days of
    /// a year: 2027-01-01 belongs to 2026-W53.
    let weekYear: Int
    /// The ISO 8601 week, 1...53; weeks start on Monday and week 1 holds the year's first Thursday.
    let week: Int

    /// Reads the fields of `date` with a calendar from `LocalTime.calendar(in:)`.
    init(_ date: Date, calendar: Calendar) {
        let fields = calendar.dateComponents(Self.fields, from: date)
        guard let year = fields.year, let month = fields.month, let day = fields.day,
            let hour = fields.hour, let weekYear = fields.yearForWeekOfYear,
            let week = fields.weekOfYear
        else {
            preconditionFailure("Calendar omitted a requested field for \(date)")
        }
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.weekYear = weekYear
        self.week = week
    }

    private static let fields: Set<Calendar.Component> = [
        .year, .month, .day, .hour, .yearForWeekOfYear, .weekOfYear,
    ]

    /// The ISO 8601 calendar in `timeZone`: Gregorian days, months and years (so one calendar
    /// serves every rule), Monday-first weeks numbered by the first-Thursday rule.
    static func calendar(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        // Stated rather than trusted: week numbers are only ISO ones with exactly these two.
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }
}
