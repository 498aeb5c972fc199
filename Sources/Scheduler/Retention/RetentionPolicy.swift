/// How many snapshots a backup directory keeps: the newest few, plus grandfather-father-son
/// buckets of verified snapshots.
///
/// A `nil` rule is not used; a rule of 0 is used and keeps nothing, so a policy of only zeros
/// keeps just the snapshot that `Retention` always keeps. A policy without any rule keeps
/// everything (see `isEmpty`).
public struct RetentionPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Keep the newest this many snapshots, verified or not.
    public var retainLast: Int?
    /// Keep the newest verified snapshot of each of the newest this many local hours that have one.
    public var hourly: Int?
    /// Keep the newest verified snapshot of each of the newest this many local days that have one.
    public var daily: Int?
    /// Keep the newest verified snapshot of each of the newest this many ISO 8601 weeks that have one.
    public var weekly: Int?
    /// Keep the newest verified snapshot of each of the newest this many local months that have one.
    public var monthly: Int?

    /// Creates a policy; call `validate()` before planning with counts that came from outside.
    public init(
        retainLast: Int? = nil,
        hourly: Int? = nil,
        daily: Int? = nil,
        weekly: Int? = nil,
        monthly: Int? = nil
    ) {
        self.retainLast = retainLast
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// Decodes a policy and validates it, so that a configuration file with a negative count
    /// fails where it is read rather than at the first prune.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            retainLast: try container.decodeIfPresent(Int.self, forKey: .retainLast),
            hourly: try container.decodeIfPresent(Int.self, forKey: .hourly),
            daily: try container.decodeIfPresent(Int.self, forKey: .daily),
            weekly: try container.decodeIfPresent(Int.self, forKey: .weekly),
            monthly: try container.decodeIfPresent(Int.self, forKey: .monthly)
        )
        try validate()
    }

    /// Whether no rule is set, in which case retention keeps every snapshot.
    public var isEmpty: Bool { rules.allSatisfy { $0.count == nil } }

    /// Throws if a rule asks for a negative number of snapshots.
    public func validate() throws(RetentionPolicyError) {
        for rule in rules {
            guard let count = rule.count, count < 0 else { continue }
            throw RetentionPolicyError(
                code: .negativeCount,
                message: "retention policy: \(rule.field) is \(count); a count must be 0 or more "
                    + "(leave the rule out to not use it)"
            )
        }
    }

    /// The rules that are set, in the order `cairn schedule prune --dry-run` shows them:
    /// "last 24, hourly 24, daily 7, weekly 4, monthly 12", or "no retention policy".
    public var description: String {
        let parts = rules.compactMap { rule in rule.count.map { "\(rule.label) \($0)" } }
        return parts.isEmpty ? Self.emptyReason : parts.joined(separator: ", ")
    }

    /// The reason given for every snapshot kept under an empty policy.
    static let emptyReason = "no retention policy"

    private var rules: [(field: String, label: String, count: Int?)] {
        [
            ("retainLast", "last", retainLast),
            ("hourly", "hourly", hourly),
            ("daily", "daily", daily),
            ("weekly", "weekly", weekly),
            ("monthly", "monthly", monthly),
        ]
    }
}
