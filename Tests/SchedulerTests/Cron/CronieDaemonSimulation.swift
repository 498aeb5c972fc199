import Foundation

@testable import Scheduler

/// An independent oracle for `nextFire`: replays cronie's daemon loop (`src/cron.c`, `main`
/// and `find_jobs`) one minute tick at a time over a window of real time.
///
/// It shares nothing with the implementation's search: no transition lookup, no civil
/// arithmetic. Each tick reads the zone's UTC offset, turns it into cronie's local minute
/// count, classifies the jump since the last tick exactly as cron.c does (normal, small,
/// medium, negative, large) and matches virtual minutes with a Foundation calendar. Only the
/// parsed field sets and star flags come from the code under test; the parsing tests pin
/// those separately.
struct CronieDaemonSimulation {
    private struct Tick {
        let instantSeconds: Int
        /// cronie's `clockTime`: (instant + UTC offset) / 60.
        let clockMinute: Int
    }

    private let ticks: [Tick]
    private let initialClockMinute: Int
    private let firstWallMinute: Int
    private let wallClocks: [WallClock]

    /// Prepares ticks every minute for `minutes` minutes after `start`, which must fall on a
    /// whole minute of the zone's wall clock.
    init(timeZone: TimeZone, from start: Date, minutes: Int) {
        let startSeconds = Int(start.timeIntervalSince1970)
        func clockMinute(_ seconds: Int) -> Int {
            let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
            precondition(offset % 60 == 0, "the simulation needs whole-minute offsets")
            return (seconds + offset) / 60
        }
        initialClockMinute = clockMinute(startSeconds)
        ticks = (1...minutes).map { index in
            let seconds = startSeconds + index * 60
            return Tick(instantSeconds: seconds, clockMinute: clockMinute(seconds))
        }
        let clockMinutes = ticks.map(\.clockMinute) + [initialClockMinute]
        firstWallMinute = clockMinutes.min()!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // cron.c turns a virtual minute into fields with gmtime(minute * 60), as below.
        wallClocks = (firstWallMinute...clockMinutes.max()!).map { wallMinute in
            WallClock(
                calendar.dateComponents(
                    WallClock.components, from: Date(timeIntervalSince1970: TimeInterval(wallMinute * 60))))
        }
    }

    /// The instants at which cronie would start the job during the window.
    func fires(of expression: CronExpression) -> [Date] {
        let isWildcard = expression.minute.startsWithStar || expression.hour.startsWithStar
        func matches(_ wallMinute: Int) -> Bool {
            wallClocks[wallMinute - firstWallMinute].isSelected(by: expression)
        }

        var fires: [Date] = []
        var virtualMinute = initialClockMinute
        for tick in ticks {
            let clock = tick.clockMinute
            let timeDiff = clock - virtualMinute
            var runs = false
            if timeDiff == 1 {
                virtualMinute = clock
                runs = matches(clock)
            } else if timeDiff > 180 || timeDiff < -180 {
                // large: the clock was reset; jump and run everything for the new minute.
                virtualMinute = clock
                runs = matches(clock)
            } else if timeDiff > 5 {
                // medium: wildcard jobs for this minute, fixed-time jobs for every minute missed.
                runs = isWildcard && matches(clock)
                for missed in (virtualMinute + 1)...clock where !isWildcard && matches(missed) {
                    runs = true
                }
                virtualMinute = clock
            } else if timeDiff > 0 {
                // small: every job for every minute missed.
                for missed in (virtualMinute + 1)...clock where matches(missed) {
                    runs = true
                }
                virtualMinute = clock
            } else {
                // negative: only wildcard jobs; virtual time waits for the clock to catch up.
                runs = isWildcard && matches(clock)
            }
            if runs {
                fires.append(Date(timeIntervalSince1970: TimeInterval(tick.instantSeconds)))
            }
        }
        return fires
    }
}
