/// Why a cron expression was rejected.
///
/// `code` is stable and meant for programs; `message` is for operators and names the field
/// and the offending token, for example
/// `day-of-month: 32 is out of range 1-31 in "0 0 32 * *"`.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier for a kind of parse failure.
    ///
    /// A struct rather than an enum so that new kinds can be added without breaking callers
    /// that switch over the existing ones.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The stable text of the code, such as `cron.out_of_range`.
        public let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public var description: String { rawValue }

        /// The expression holds nothing but blanks.
        public static let empty = Code("cron.empty")
        /// The expression is longer than ``CronExpression/maximumLengthBytes``.
        public static let tooLong = Code("cron.too_long")
        /// The expression does not have exactly five fields, or a macro has fields after it.
        public static let fieldCount = Code("cron.field_count")
        /// An `@` word that is not one of the supported macros.
        public static let unknownMacro = Code("cron.unknown_macro")
        /// `@reboot`, which has no meaning for a clock-driven scheduler.
        public static let rebootUnsupported = Code("cron.reboot_unsupported")
        /// A comma list with an empty item, as in `1,,2` or `1,`.
        public static let emptyItem = Code("cron.empty_item")
        /// An item that is not a value, range or step, as in `1-2-3` or `*-5`.
        public static let malformedItem = Code("cron.malformed_item")
        /// A word that is neither a number nor a name the field accepts.
        public static let invalidValue = Code("cron.invalid_value")
        /// A number outside the field's range, as in `60` for the minute.
        public static let outOfRange = Code("cron.out_of_range")
        /// A range whose start is after its end, as in `5-2`.
        public static let reversedRange = Code("cron.reversed_range")
        /// A step of zero, as in `*/0`.
        public static let zeroStep = Code("cron.zero_step")
        /// A step wider than the field's whole range, as in `*/60` for the minute.
        public static let stepTooLarge = Code("cron.step_too_large")
    }

    /// The kind of failure.
    public let code: Code
    /// What is wrong and where, for an operator.
    public let message: String

    init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}

extension CronError {
    /// An error in one field, worded `<field>: <problem> in "<expression>"`.
    static func field(
        _ kind: CronFieldKind,
        _ code: Code,
        _ problem: String,
        in expression: String
    ) -> CronError {
        CronError(code: code, message: "\(kind.name): \(problem) in \(quoted(expression))")
    }

    /// An error about the expression as a whole, worded `<problem> in "<expression>"`.
    static func expression(_ code: Code, _ problem: String, in expression: String) -> CronError {
        CronError(code: code, message: "\(problem) in \(quoted(expression))")
    }

    /// Quotes text with Swift string escapes, so that tabs or control characters in a
    /// rejected expression show up in the message instead of disappearing.
    static func quoted(_ text: some StringProtocol) -> String {
        String(text).debugDescription
    }
}
