/// A date on the proleptic Gregorian calendar with no time zone: what a wall calendar shows.
///
/// Cron fields describe wall-clock time, so the search for a matching minute runs on plain
/// civil arithmetic and only the mapping to instants involves a time zone. The conversions are
/// Howard Hinnant's `days_from_civil` / `civil_from_days`, exact for any `Int` day count
/// this package can produce.
struct CivilDate: Sendable, Hashable {
    let year: Int
    /// 1-12.
    let month: Int
    /// 1-31.
    let day: Int

    init(year: Int, month: Int, day: Int) {
        precondition((1...12).contains(month) && (1...31).contains(day), "invalid date \(year)-\(month)-\(day)")
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `daysSinceEpoch` days after 1970-01-01 (negative for earlier dates).
    init(daysSinceEpoch: Int) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchBasedMonth = (5 * dayOfYear + 2) / 153
        let month = marchBasedMonth < 10 ? marchBasedMonth + 3 : marchBasedMonth - 9
        self.init(
            year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
            month: month,
            day: dayOfYear - (153 * marchBasedMonth + 2) / 5 + 1)
    }

    /// Days from 1970-01-01 to this date.
    var daysSinceEpoch: Int {
        let marchBasedYear = month <= 2 ? year - 1 : year
        let era = (marchBasedYear >= 0 ? marchBasedYear : marchBasedYear - 399) / 400
        let yearOfEra = marchBasedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday … 6 = Saturday, as cron numbers days of the week.
    var weekday: Int {
        // 1970-01-01 was a Thursday.
        (daysSinceEpoch + 4).flooredModulo(7)
    }

    /// The first day of the following month.
    var firstOfNextMonth: CivilDate {
        month == 12
            ? CivilDate(year: year + 1, month: 1, day: 1)
            : CivilDate(year: year, month: month + 1, day: 1)
    }
}

extension Int {
    /// Division rounding toward negative infinity, so instants before 1970 land on the
    /// minute or day that contains them.
    func flooredDivision(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Division rounding toward positive infinity.
    func ceiledDivision(by divisor: Int) -> Int {
        -(-self).flooredDivision(by: divisor)
    }

    /// The remainder that goes with ``flooredDivision(by:)``: always in `0..<divisor`.
    func flooredModulo(_ divisor: Int) -> Int {
        self - flooredDivision(by: divisor) * divisor
    }
}
