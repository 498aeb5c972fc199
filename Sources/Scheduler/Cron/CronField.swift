/// The set of values one field of a cron expression selects.
///
/// Invariant: `valueBits` is non-empty and only holds bits in `kind.lowest...kind.highest`,
/// except that day-of-week never holds bit 7 (Sunday is always bit 0).
struct CronField: Sendable, Hashable {
    /// Which of the five fields this is.
    let kind: CronFieldKind
    /// Bit `v` is set when value `v` is selected.
    let valueBits: UInt64
    /// Whether the field's text began with `*`. cronie sets its `MIN_STAR`, `HR_STAR`,
    /// `DOM_STAR` and `DOW_STAR` flags from the first character alone (`src/entry.c`,
    /// `if (ch == '*') e->flags |= DOM_STAR;`), so `*/2` counts as a star field. The flags
    /// decide the day-of-month/day-of-week rule and the daylight-saving treatment, which is
    /// why two fields selecting the same values can still differ.
    let startsWithStar: Bool

    /// Whether `value` is selected.
    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && valueBits & (1 << UInt64(value)) != 0
    }

    /// The smallest selected value at or after `value`, or nil when there is none.
    func first(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = valueBits & (UInt64.max << UInt64(max(value, 0)))
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }
}

// MARK: - Parsing

extension CronField {
    /// Parses one whitespace-free field: a comma list of `*`, `N`, `A-B`, `*/S`, `A-B/S` or
    /// `A/S` (A to the field's highest value by S). `expression` is the whole text, quoted in
    /// errors.
    init(parsing text: Substring, as kind: CronFieldKind, in expression: String) throws(CronError) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw .field(
                    kind, .emptyItem, "empty item in list \(CronError.quoted(text))", in: expression)
            }
            bits |= try Self.parseItem(item, as: kind, in: expression)
        }
        self.init(kind: kind, valueBits: bits, startsWithStar: text.first == "*")
    }

    private static func parseItem(
        _ item: Substring,
        as kind: CronFieldKind,
        in expression: String
    ) throws(CronError) -> UInt64 {
        let malformed = CronError.field(
            kind, .malformedItem,
            "\(CronError.quoted(item)) is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S)",
            in: expression)
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw malformed }
        let hasStep = parts.count == 2

        let low: Int
        let high: Int
        if parts[0] == "*" {
            low = kind.lowest
            high = kind.highest
        } else {
            let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty && !$0.contains("*") }) else {
                throw malformed
            }
            low = try parseValue(bounds[0], as: kind, in: expression)
            if bounds.count == 2 {
                var end = try parseValue(bounds[1], as: kind, in: expression)
                // cronie reads a day-of-week range ending at 0 as ending at 7, so FRI-SUN works.
                if kind == .dayOfWeek && end == 0 && low > 0 {
                    end = 7
                }
                guard low <= end else {
                    throw .field(
                        kind, .reversedRange,
                        "range \(bounds[0])-\(bounds[1]) is reversed (write the smaller value first)",
                        in: expression)
                }
                high = end
            } else {
                high = hasStep ? kind.highest : low
            }
        }

        let step = hasStep ? try parseStep(parts[1], of: item, as: kind, in: expression) : 1
        return valueBits(from: low, through: high, by: step, as: kind)
    }

    private static func parseValue(
        _ token: Substring,
        as kind: CronFieldKind,
        in expression: String
    ) throws(CronError) -> Int {
        if token.utf8.allSatisfy(isASCIIDigit) {
            // Int(_:) fails only on overflow here, which is out of range too.
            guard let value = Int(token), value >= kind.lowest, value <= kind.highest else {
                throw .field(
                    kind, .outOfRange, "\(token) is out of range \(kind.lowest)-\(kind.highest)",
                    in: expression)
            }
            return value
        }
        guard let index = kind.names.firstIndex(of: token.uppercased()) else {
            throw .field(
                kind, .invalidValue, "\(CronError.quoted(token)) is not \(kind.valueHint)",
                in: expression)
        }
        return kind.lowest + index
    }

    private static func parseStep(
        _ token: Substring,
        of item: Substring,
        as kind: CronFieldKind,
        in expression: String
    ) throws(CronError) -> Int {
        let itemText = CronError.quoted(item)
        guard !token.isEmpty, token.utf8.allSatisfy(isASCIIDigit) else {
            throw .field(
                kind, .invalidValue, "step \(CronError.quoted(token)) in \(itemText) is not a number",
                in: expression)
        }
        guard let step = Int(token), step <= kind.widestStep else {
            throw .field(
                kind, .stepTooLarge,
                "step \(token) in \(itemText) is over the maximum of \(kind.widestStep) for range \(kind.lowest)-\(kind.highest)",
                in: expression)
        }
        guard step > 0 else {
            throw .field(kind, .zeroStep, "step \(token) in \(itemText) must be at least 1", in: expression)
        }
        return step
    }

    private static func isASCIIDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The bits for `low`, `low + step`, … up to `high`, with day-of-week's 7 folded onto 0.
    /// Shared by parsing and rendering so that a rendered field parses back to the same bits.
    static func valueBits(from low: Int, through high: Int, by step: Int, as kind: CronFieldKind) -> UInt64 {
        precondition(step > 0 && low >= kind.lowest && high <= kind.highest, "invalid span \(low)-\(high)/\(step)")
        var bits: UInt64 = 0
        for value in stride(from: low, through: high, by: step) {
            let folded = kind == .dayOfWeek && value == 7 ? 0 : value
            bits |= 1 << UInt64(folded)
        }
        return bits
    }
}

// MARK: - Rendering

extension CronField {
    /// The canonical text of the field: it parses back to an equal field, and equal fields
    /// render alike. Star fields render as `*` or `*/S[,rest]`; others as a list of values
    /// and runs (`0,5-6`), with names replaced by numbers.
    var text: String {
        guard startsWithStar else {
            return Self.listText(valueBits)
        }
        let all = Self.valueBits(from: kind.lowest, through: kind.highest, by: 1, as: kind)
        if valueBits == all {
            return "*"
        }
        // A star field that is not full came from `*/S` (plus maybe more items), so some step
        // from 2 up to the widest covers part of it; the smallest such step is the canonical one.
        for step in 2...kind.widestStep {
            let stepped = Self.valueBits(from: kind.lowest, through: kind.highest, by: step, as: kind)
            guard valueBits & stepped == stepped else { continue }
            let rest = valueBits & ~stepped
            return rest == 0 ? "*/\(step)" : "*/\(step),\(Self.listText(rest))"
        }
        preconditionFailure("star field \(kind.name) with bits \(valueBits) holds no */S pattern")
    }

    private static func listText(_ bits: UInt64) -> String {
        var items: [String] = []
        var remaining = bits
        // Each pass clears at least one bit, so this ends within 64 passes.
        while remaining != 0 {
            let start = remaining.trailingZeroBitCount
            let runLength = (~(remaining >> UInt64(start))).trailingZeroBitCount
            let end = start + runLength - 1
            items.append(start == end ? "\(start)" : "\(start)-\(end)")
            remaining &= end >= 63 ? 0 : UInt64.max << UInt64(end + 1)
        }
        return items.joined(separator: ",")
    }
}
