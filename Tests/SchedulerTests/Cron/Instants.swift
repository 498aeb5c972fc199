import Foundation
import XCTest

@testable import Scheduler

/// Reading and showing instants in tests: ISO 8601 with offsets, so every expected time in
/// a table says which side of a clock change it is on.
enum Instants {
    /// Parses an ISO 8601 instant such as `2026-11-01T01:30:00-05:00`.
    static func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Date {
        do {
            return try Date(text, strategy: .iso8601)
        } catch {
            XCTFail("test table holds an unreadable instant \(text)", file: file, line: line)
            throw error
        }
    }

    /// The named zone, or a skip when this system's time zone data lacks it.
    static func zone(_ identifier: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: identifier) else {
            throw XCTSkip("time zone \(identifier) is not in this system's time zone data")
        }
        return zone
    }

    /// `date` as ISO 8601 with its UTC offset in `zone`, for failure messages.
    static func show(_ date: Date?, in zone: TimeZone) -> String {
        guard let date else { return "nil" }
        return date.formatted(Date.ISO8601FormatStyle(timeZone: zone))
    }

    /// Every fire time in `(start, end]`, by calling `nextFire` repeatedly.
    static func fires(
        of expression: String,
        in zone: TimeZone,
        after start: Date,
        through end: Date,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> [Date] {
        let cron = try CronExpression(parsing: expression)
        var fires: [Date] = []
        var cursor = start
        // One fire per minute at most, so the window's minute count bounds the loop.
        for _ in 0...Int(end.timeIntervalSince(start) / 60) + 1 {
            guard let next = cron.nextFire(after: cursor, in: zone), next <= end else { break }
            XCTAssertGreaterThan(next, cursor, "\(expression): nextFire went backwards", file: file, line: line)
            fires.append(next)
            cursor = next
        }
        return fires
    }
}
