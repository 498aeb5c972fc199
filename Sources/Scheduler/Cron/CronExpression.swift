/// A five-field cron schedule, as written in crontab(5): minute, hour, day-of-month, month,
/// day-of-week.
///
/// Syntax, per field: `*`, a value, a range `A-B`, a step `*/S`, `A-B/S` or `A/S` (A up to
/// the field's highest value by S), and comma lists of these. Months accept `JAN`-`DEC`,
/// days of the week `SUN`-`SAT` (any letter case); day-of-week 0 and 7 both mean Sunday, and
/// a day-of-week range may end on Sunday (`FRI-SUN`). The macros `@yearly`, `@annually`,
/// `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` stand for their five-field
/// forms; `@reboot` is rejected.
///
/// Day-of-month and day-of-week follow cronie (`src/cron.c`, `find_jobs`): a field counts
/// as unrestricted when its text begins with `*` (so `*/2` is unrestricted here, exactly as
/// cronie's `DOM_STAR`/`DOW_STAR` flags are set). When either day field is unrestricted, a
/// day must match both; when both are restricted, a day matching either one is enough, so
/// `0 0 13 * FRI` fires on every 13th and on every Friday.
///
/// Values compare equal when they select the same times with the same star flags, so
/// `0 0 * * 7`, `0 0 * * SUN` and `@weekly` are all equal, and ``description`` is the same
/// canonical text for all of them.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The longest expression accepted, in UTF-8 bytes.
    public static let maximumLengthBytes = 256

    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    /// Parses a five-field expression or an `@` macro. Fields are separated by spaces or
    /// tabs.
    ///
    /// - Throws: ``CronError`` naming the field and token at fault, for example
    ///   `day-of-month: 32 is out of range 1-31 in "0 0 32 * *"`.
    public init(parsing text: String) throws(CronError) {
        let byteCount = text.utf8.count
        guard byteCount <= Self.maximumLengthBytes else {
            throw CronError(
                code: .tooLong,
                message: "expression is \(byteCount) bytes long, over the limit of \(Self.maximumLengthBytes) bytes")
        }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first else {
            throw CronError(
                code: .empty,
                message: "expression is empty; write five fields (\(Self.fieldNames)) or a macro such as @daily")
        }
        if first.hasPrefix("@") {
            let macro = try CronMacro(parsing: first, in: text)
            guard words.count == 1 else {
                throw .expression(
                    .fieldCount, "\(first) takes no fields after it, found \(words.count - 1)", in: text)
            }
            try self.init(fields: macro.expansion.split(separator: " "), in: text)
        } else {
            try self.init(fields: words, in: text)
        }
    }

    private init(fields: [Substring], in text: String) throws(CronError) {
        let kinds = CronFieldKind.allCases
        guard fields.count == kinds.count else {
            throw .expression(
                .fieldCount, "expected \(kinds.count) fields (\(Self.fieldNames)), found \(fields.count)", in: text)
        }
        minute = try CronField(parsing: fields[0], as: .minute, in: text)
        hour = try CronField(parsing: fields[1], as: .hour, in: text)
        dayOfMonth = try CronField(parsing: fields[2], as: .dayOfMonth, in: text)
        month = try CronField(parsing: fields[3], as: .month, in: text)
        dayOfWeek = try CronField(parsing: fields[4], as: .dayOfWeek, in: text)
    }

    private static var fieldNames: String {
        CronFieldKind.allCases.map(\.name).joined(separator: " ")
    }

    /// The canonical five-field text: single spaces, numbers instead of names, macros
    /// expanded, Sunday as 0. Parsing it gives back an equal expression.
    public var description: String {
        [minute, hour, dayOfMonth, month, dayOfWeek].map(\.text).joined(separator: " ")
    }

    /// Whether the day-of-month and day-of-week fields select `date`, by cronie's rule.
    func matchesDay(_ date: CivilDate) -> Bool {
        let dayOfMonthMatches = dayOfMonth.contains(date.day)
        let dayOfWeekMatches = dayOfWeek.contains(date.weekday)
        if dayOfMonth.startsWithStar || dayOfWeek.startsWithStar {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// Whether cronie treats this as a fixed-time job across clock changes: neither the
    /// minute nor the hour field begins with `*` (cronie's `MIN_STAR | HR_STAR` test in
    /// `find_jobs`). Fixed-time jobs catch up on wall-clock times skipped by a forward change
    /// and do not repeat in a backward one; the others simply follow the clock.
    var runsAtFixedTime: Bool {
        !minute.startsWithStar && !hour.startsWithStar
    }
}
