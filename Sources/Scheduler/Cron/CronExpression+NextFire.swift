import Foundation

extension CronExpression {
    /// How far ahead ``nextFire(after:in:)`` looks: 8 × 12 × 31 days, the bound cronie's
    /// `cronnext` uses. The longest gap between two fires of a satisfiable expression is
    /// `0 0 29 2 *` from 2096-03-01 to 2104-02-29 (2100 is not a leap year), which fits.
    static let searchHorizonSeconds = 8 * 12 * 31 * 86_400

    /// Offset changes this large or larger are clock corrections to cronie, not
    /// daylight-saving changes: cron(8) gives the special treatment only to "local time
    /// changes of less than three hours".
    static let clockCorrectionShiftSeconds = 3 * 3_600

    /// A backward change of at most ``clockCorrectionShiftSeconds`` before the instant asked
    /// about can still silence fixed-time jobs at that instant, so the walk starts this early.
    static let lookbackSeconds = clockCorrectionShiftSeconds + 60

    /// Offset changes walked per search. Real zones have about two a year, so this is never
    /// reached; it bounds the loop should a time zone report transitions densely.
    static let transitionLimit = 1_000

    /// Instants further than this from 1970, in seconds (about 31,700 years), are not searched.
    static let instantLimitSeconds = 1e12

    /// The first time strictly after `instant` at which the schedule fires, reading the
    /// fields as wall-clock time in `timeZone` on the Gregorian calendar.
    ///
    /// Clock changes are handled as cronie's daemon handles a change of local time (the
    /// main loop of `src/cron.c`; cron(8), "Daylight Saving Time and other time changes").
    /// A job is *fixed-time* when neither its minute nor its hour field begins with `*`
    /// (`30 2 * * *`, `@daily`); otherwise it is a *wildcard* job (`*/30 * * * *`, `@hourly`).
    ///
    /// - Forward change of less than 3 hours (spring forward): a fixed-time job whose time
    ///   falls in the skipped wall-clock interval fires once, at the first instant after the
    ///   gap (`30 2 * * *` fires at 03:00 EDT on 2026-03-08 in America/New_York). Wildcard jobs
    ///   skip the times that do not exist (`*/30 * * * *` goes 01:30 EST → 03:00 EDT).
    /// - Backward change of at most 3 hours (fall back): a fixed-time job fires only in the
    ///   first occurrence of the repeated wall-clock interval (`30 1 * * *` fires at 01:30 EDT
    ///   only); wildcard jobs keep their interval through both occurrences (`0 * * * *`
    ///   fires at 01:00 EDT and again at 01:00 EST).
    /// - Larger changes are clock corrections: skipped times do not fire and repeated times
    ///   fire twice, for every job.
    ///
    /// cronie also lets wildcard jobs catch up after forward changes of under five minutes;
    /// no time zone has such a change after 1970, so that case is not modelled.
    ///
    /// - Returns: nil when nothing fires within ``searchHorizonSeconds`` (2,976 days) after
    ///   `instant`, which is long enough that nil means the expression never fires, as with
    ///   `0 0 30 2 *`; also nil when `instant` is not finite or is tens of millennia away.
    public func nextFire(after instant: Date, in timeZone: TimeZone) -> Date? {
        let afterSeconds = instant.timeIntervalSince1970
        guard afterSeconds.isFinite, abs(afterSeconds) < Self.instantLimitSeconds else {
            return nil
        }
        let afterWholeSeconds = Int(afterSeconds.rounded(.down))
        let horizon = afterWholeSeconds + Self.searchHorizonSeconds
        // Walk stretches of constant UTC offset. Within one, wall clock = instant + offset, so
        // the search is plain civil arithmetic; the offset changes are handled between them.
        var segmentStart = afterWholeSeconds - Self.lookbackSeconds
        // Fixed-time fires before this instant are repeats of a fall-back overlap.
        var silentUntil = segmentStart
        for _ in 0..<Self.transitionLimit {
            let offset = timeZone.secondsFromGMT(for: Self.date(segmentStart))
            let transition = timeZone.nextDaylightSavingTimeTransition(after: Self.date(segmentStart))
                .map { Int($0.timeIntervalSince1970.rounded(.down)) }
                .flatMap { $0 > segmentStart && $0 < horizon ? $0 : nil }
            let segmentEnd = transition ?? horizon

            let firstMinute = max(
                Int(((afterSeconds + Double(offset)) / 60).rounded(.down)) + 1,
                (max(segmentStart, silentUntil) + offset).ceiledDivision(by: 60))
            let endMinute = (segmentEnd + offset).ceiledDivision(by: 60)
            if let minute = firstMatchingMinute(from: firstMinute, before: endMinute) {
                return Self.date(minute * 60 - offset)
            }

            guard let transition else { return nil }
            let newOffset = timeZone.secondsFromGMT(for: Self.date(transition))
            let shift = newOffset - offset
            // cron.c classifies the first minute tick after a change by `timeDiff`, which is
            // the shift in minutes plus one: forward changes under 3 hours and backward ones
            // of up to 3 hours stay within its `3 * MINUTE_COUNT` limit.
            if runsAtFixedTime && shift < Self.clockCorrectionShiftSeconds {
                if shift > 0 && Double(transition) > afterSeconds
                    && skippedTimeMatches(from: transition + offset, to: transition + newOffset)
                {
                    return Self.date(transition)
                }
                if shift < 0 && -shift <= Self.clockCorrectionShiftSeconds {
                    silentUntil = transition - shift
                }
            }
            segmentStart = transition
        }
        return nil
    }

    /// Whether a wall-clock minute in `[startSeconds, endSeconds)` (wall-clock seconds
    /// since 1970) matches: the interval a forward change skips.
    private func skippedTimeMatches(from startSeconds: Int, to endSeconds: Int) -> Bool {
        firstMatchingMinute(
            from: startSeconds.ceiledDivision(by: 60),
            before: endSeconds.ceiledDivision(by: 60)) != nil
    }

    private static func date(_ secondsSince1970: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(secondsSince1970))
    }
}
