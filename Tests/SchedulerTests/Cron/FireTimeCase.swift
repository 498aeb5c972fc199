import Foundation
import XCTest

@testable import Scheduler

/// One row of a fire-time table: from `after`, `nextFire` applied repeatedly must give
/// `expected` in order. Times carry their UTC offsets so a reader can check each row by hand.
struct FireTimeCase {
    let expression: String
    let zone: String
    let after: String
    let expected: [String]
    let line: UInt

    init(_ expression: String, _ zone: String, after: String, _ expected: [String], line: UInt = #line) {
        self.expression = expression
        self.zone = zone
        self.after = after
        self.expected = expected
        self.line = line
    }

    /// Checks every row of `cases`, skipping rows whose zone this system lacks.
    static func check(_ cases: [FireTimeCase], file: StaticString = #filePath) throws {
        for row in cases {
            guard let zone = TimeZone(identifier: row.zone) else {
                print("skipping \(row.expression) in \(row.zone): zone not in this system's data")
                continue
            }
            let expression = try CronExpression(parsing: row.expression)
            var cursor = try Instants.parse(row.after, file: file, line: row.line)
            for (index, expectedText) in row.expected.enumerated() {
                let expected = try Instants.parse(expectedText, file: file, line: row.line)
                let actual = expression.nextFire(after: cursor, in: zone)
                XCTAssertEqual(
                    actual, expected,
                    "\(row.expression) in \(row.zone), fire #\(index + 1) after \(Instants.show(cursor, in: zone)): got \(Instants.show(actual, in: zone)), expected \(expectedText)",
                    file: file, line: row.line)
                guard actual == expected else { break }
                cursor = expected
            }
        }
    }
}
