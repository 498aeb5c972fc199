/// The `@` shorthands crontab(5) accepts in place of five fields.
enum CronMacro: String, CaseIterable, Sendable {
    case yearly
    case annually
    case monthly
    case weekly
    case daily
    case midnight
    case hourly

    /// The five fields the macro stands for. They carry the same star flags cronie's
    /// `load_entry` sets for each macro (`@weekly` sets `DOM_STAR`, `@hourly` sets `HR_STAR`,
    /// …), so macros and their expansions behave alike across daylight-saving changes.
    var expansion: String {
        switch self {
        case .yearly, .annually: "0 0 1 1 *"
        case .monthly: "0 0 1 * *"
        case .weekly: "0 0 * * 0"
        case .daily, .midnight: "0 0 * * *"
        case .hourly: "0 * * * *"
        }
    }

    /// Reads a word that starts with `@` (any letter case).
    init(parsing word: Substring, in expression: String) throws(CronError) {
        let name = word.dropFirst().lowercased()
        if name == "reboot" {
            throw .expression(
                .rebootUnsupported,
                "@reboot has no meaning for the snapshot scheduler, which fires by the clock and not at startup; use a time such as @daily",
                in: expression)
        }
        guard let macro = CronMacro(rawValue: name) else {
            let known = Self.allCases.map { "@\($0.rawValue)" }
            throw .expression(
                .unknownMacro,
                "unknown macro \(CronError.quoted(word)) (expected \(known.dropLast().joined(separator: ", ")) or \(known.last ?? ""))",
                in: expression)
        }
        self = macro
    }
}
