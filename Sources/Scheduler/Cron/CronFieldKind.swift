/// The five positions of a cron expression and the values each accepts.
enum CronFieldKind: Int, CaseIterable, Sendable {
    case minute
    case hour
    case dayOfMonth
    case month
    case dayOfWeek

    /// The name used in error messages, spelled as crontab(5) does.
    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The smallest value a token may name.
    var lowest: Int {
        switch self {
        case .minute, .hour, .dayOfWeek: 0
        case .dayOfMonth, .month: 1
        }
    }

    /// The largest value a token may name. Day-of-week accepts 7 as a second spelling of
    /// Sunday, as crontab(5) does; ``CronField`` folds it onto 0.
    var highest: Int {
        switch self {
        case .minute: 59
        case .hour: 23
        case .dayOfMonth: 31
        case .month: 12
        case .dayOfWeek: 7
        }
    }

    /// The widest step that still selects more than the first value of `*`.
    var widestStep: Int { highest - lowest }

    /// Three-letter names accepted in place of numbers (compared case-insensitively); the
    /// first name stands for ``lowest``.
    var names: [String] {
        switch self {
        case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        case .minute, .hour, .dayOfMonth: []
        }
    }

    /// What a token may be, for the message when it is none of those things.
    var valueHint: String {
        switch self {
        case .month: "a number or a month name (JAN-DEC)"
        case .dayOfWeek: "a number or a day name (SUN-SAT)"
        case .minute, .hour, .dayOfMonth: "a number"
        }
    }
}
