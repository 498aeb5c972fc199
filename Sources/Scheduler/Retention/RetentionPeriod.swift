/// The kinds of grandfather-father-son bucket, each keeping one verified snapshot per period.
enum RetentionPeriod: CaseIterable {
    case hour
    case day
    case week
    case month

    /// How many periods of this kind `policy` keeps, or `nil` when the rule is not set.
    func count(in policy: RetentionPolicy) -> Int? {
        switch self {
        case .hour: policy.hourly
        case .day: policy.daily
        case .week: policy.weekly
        case .month: policy.monthly
        }
    }

    /// The period of this kind that `time` falls in, as a number that grows with time: the
    /// bucket key, cheaper to hash than the reason's text when thousands of snapshots are grouped.
    func key(for time: LocalTime) -> Int {
        switch self {
        case .hour: ((time.year * 13 + time.month) * 32 + time.day) * 24 + time.hour
        case .day: (time.year * 13 + time.month) * 32 + time.day
        case .week: time.weekYear * 54 + time.week
        case .month: time.year * 13 + time.month
        }
    }

    /// The period of this kind that `time` falls in, named the way a kept snapshot's reason
    /// shows it ("hourly 2026-11-24 13:00", "daily 2026-11-24", "weekly 2026-W48",
    /// "monthly 2026-11").
    func reason(for time: LocalTime) -> String {
        let yearMonth = "\(time.year)-\(Self.twoDigits(time.month))"
        switch self {
        case .hour: return "hourly \(yearMonth)-\(Self.twoDigits(time.day)) \(Self.twoDigits(time.hour)):00"
        case .day: return "daily \(yearMonth)-\(Self.twoDigits(time.day))"
        case .week: return "weekly \(time.weekYear)-W\(Self.twoDigits(time.week))"
        case .month: return "monthly \(yearMonth)"
        }
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
