extension CronExpression {
    static let minutesPerDay = 24 * 60

    /// The first wall-clock minute in `start..<end` that the expression selects, or nil.
    ///
    /// Minutes are counted from 1970-01-01T00:00 on the wall clock, with no time zone: the
    /// caller maps them to instants. Non-matching months, days and hours are skipped whole,
    /// so the cost grows with the number of days searched, not minutes.
    func firstMatchingMinute(from start: Int, before end: Int) -> Int? {
        var candidate = start
        // Every pass moves `candidate` strictly forward (to the next month, day or hour, or
        // returns), so the loop ends once it reaches `end`.
        while candidate < end {
            let dayIndex = candidate.flooredDivision(by: Self.minutesPerDay)
            let dayStart = dayIndex * Self.minutesPerDay
            let date = CivilDate(daysSinceEpoch: dayIndex)
            guard month.contains(date.month) else {
                candidate = date.firstOfNextMonth.daysSinceEpoch * Self.minutesPerDay
                continue
            }
            guard matchesDay(date) else {
                candidate = dayStart + Self.minutesPerDay
                continue
            }
            let minuteOfDay = candidate - dayStart
            let currentHour = minuteOfDay / 60
            if hour.contains(currentHour), let matchingMinute = minute.first(atOrAfter: minuteOfDay % 60) {
                let found = dayStart + currentHour * 60 + matchingMinute
                return found < end ? found : nil
            }
            if let nextHour = hour.first(atOrAfter: currentHour + 1) {
                candidate = dayStart + nextHour * 60
            } else {
                candidate = dayStart + Self.minutesPerDay
            }
        }
        return nil
    }
}
