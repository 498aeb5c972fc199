import Foundation

@testable import Scheduler

/// The fields of one wall-clock minute, read with Foundation's calendar, and the tests' own
/// statement of which minutes an expression selects. It restates cronie's `find_jobs` test
/// rather than calling the implementation's search, so the cross-checks stay independent.
struct WallClock {
    let minute: Int
    let hour: Int
    let day: Int
    let month: Int
    /// 0 = Sunday.
    let weekday: Int

    static let components: Set<Calendar.Component> = [.minute, .hour, .day, .month, .weekday]

    /// Fields read from `parts`, which must hold every one of ``components``.
    init(_ parts: DateComponents) {
        minute = parts.minute!
        hour = parts.hour!
        day = parts.day!
        month = parts.month!
        weekday = parts.weekday! - 1
    }

    /// Whether `expression` selects this minute: minute, hour and month must match, and the
    /// day fields too, both of them when either begins with `*`, otherwise either one.
    func isSelected(by expression: CronExpression) -> Bool {
        let dayOfMonth = expression.dayOfMonth.contains(day)
        let dayOfWeek = expression.dayOfWeek.contains(weekday)
        let dayMatches =
            expression.dayOfMonth.startsWithStar || expression.dayOfWeek.startsWithStar
            ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
        return dayMatches && expression.minute.contains(minute) && expression.hour.contains(hour)
            && expression.month.contains(month)
    }
}
