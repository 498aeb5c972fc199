import XCTest

@testable import Scheduler

final class CronExpressionParsingTests: XCTestCase {
    func testDescriptionIsCanonicalText() throws {
        let cases: [(text: String, canonical: String, line: UInt)] = [
            ("* * * * *", "* * * * *", #line),
            ("*/15 * * * *", "*/15 * * * *", #line),
            ("0 */6 * * *", "0 */6 * * *", #line),
            ("  0\t 9 * *   mon-fri  ", "0 9 * * 1-5", #line),
            ("0 0 1 jan,JUL *", "0 0 1 1,7 *", #line),
            ("0 12 * * 7", "0 12 * * 0", #line),
            ("0 0 * * FRI-SUN", "0 0 * * 0,5-6", #line),
            ("0 0 * * 5-7", "0 0 * * 0,5-6", #line),
            ("0,1,2 * * * *", "0-2 * * * *", #line),
            ("5-55/10 * * * *", "5,15,25,35,45,55 * * * *", #line),
            ("30/10 * * * *", "30,40,50 * * * *", #line),
            ("*/4,2 * * * *", "*/4,2 * * * *", #line),
            ("*/1 * * * *", "* * * * *", #line),
            ("0 0 */2 * *", "0 0 */2 * *", #line),
            ("0 0 * * */2", "0 0 * * */2", #line),
            ("0 0 * * */7", "0 0 * * */7", #line),
            ("0 0 * * MON/2", "0 0 * * 0-1,3,5", #line),
            ("0-59 0-23 1-31 1-12 0-7", "0-59 0-23 1-31 1-12 0-6", #line),
            ("@yearly", "0 0 1 1 *", #line),
            ("@annually", "0 0 1 1 *", #line),
            ("@monthly", "0 0 1 * *", #line),
            ("@weekly", "0 0 * * 0", #line),
            ("@daily", "0 0 * * *", #line),
            ("@midnight", "0 0 * * *", #line),
            ("@Hourly", "0 * * * *", #line),
        ]
        for (text, canonical, line) in cases {
            let expression = try CronExpression(parsing: text)
            XCTAssertEqual(expression.description, canonical, "description of \(text.debugDescription)", line: line)
            XCTAssertEqual(
                try CronExpression(parsing: expression.description), expression,
                "\(canonical) does not parse back to the expression \(text.debugDescription) gave", line: line)
        }
    }

    func testEquivalentSpellingsAreEqual() throws {
        let groups: [[String]] = [
            ["0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN", "@weekly"],
            ["0 0 * * *", "@daily", "@midnight", "00 000 * * *"],
            ["0 0 1 1,7 *", "0 0 1 JAN,JUL *", "0 0 1 jul,jan *", "0 0 1 1-7/6 *"],
            ["0 * * * *", "@hourly"],
        ]
        for group in groups {
            let expressions = try group.map { try CronExpression(parsing: $0) }
            for (text, expression) in zip(group, expressions) {
                XCTAssertEqual(expression, expressions[0], "\(text) should equal \(group[0])")
                XCTAssertEqual(expression.hashValue, expressions[0].hashValue, "hash of \(text)")
            }
        }
    }

    /// Same values, different star flags: they differ in the day rule or across clock changes.
    func testStarFlagsDistinguishOtherwiseEqualFields() throws {
        let pairs: [(String, String)] = [
            ("* * * * *", "0-59 * * * *"),
            ("0 * * * *", "0 0-23 * * *"),
            ("0 0 * * 1", "0 0 1-31 * 1"),
        ]
        for (starred, listed) in pairs {
            XCTAssertNotEqual(try CronExpression(parsing: starred), try CronExpression(parsing: listed))
        }
        XCTAssertFalse(try CronExpression(parsing: "*/5 3 * * *").runsAtFixedTime)
        XCTAssertFalse(try CronExpression(parsing: "@hourly").runsAtFixedTime)
        XCTAssertTrue(try CronExpression(parsing: "0-59/5 3 * * *").runsAtFixedTime)
        XCTAssertTrue(try CronExpression(parsing: "@daily").runsAtFixedTime)
    }

    func testRejectsEachErrorKindWithMessageNamingFieldAndToken() {
        let cases: [(text: String, code: CronError.Code, message: String, line: UInt)] = [
            ("", .empty,
             "expression is empty; write five fields (minute hour day-of-month month day-of-week) or a macro such as @daily",
             #line),
            (" \t ", .empty,
             "expression is empty; write five fields (minute hour day-of-month month day-of-week) or a macro such as @daily",
             #line),
            ("0 0 * *", .fieldCount,
             #"expected 5 fields (minute hour day-of-month month day-of-week), found 4 in "0 0 * *""#, #line),
            ("0 0 * * * /bin/true", .fieldCount,
             #"expected 5 fields (minute hour day-of-month month day-of-week), found 6 in "0 0 * * * /bin/true""#,
             #line),
            ("@daily 5", .fieldCount, #"@daily takes no fields after it, found 1 in "@daily 5""#, #line),
            ("@reboot", .rebootUnsupported,
             #"@reboot has no meaning for the snapshot scheduler, which fires by the clock and not at startup; use a time such as @daily in "@reboot""#,
             #line),
            ("@often", .unknownMacro,
             #"unknown macro "@often" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly) in "@often""#,
             #line),
            ("0 0 32 * *", .outOfRange, #"day-of-month: 32 is out of range 1-31 in "0 0 32 * *""#, #line),
            ("0 0 0 * *", .outOfRange, #"day-of-month: 0 is out of range 1-31 in "0 0 0 * *""#, #line),
            ("60 * * * *", .outOfRange, #"minute: 60 is out of range 0-59 in "60 * * * *""#, #line),
            ("0 24 * * *", .outOfRange, #"hour: 24 is out of range 0-23 in "0 24 * * *""#, #line),
            ("0 0 * 13 *", .outOfRange, #"month: 13 is out of range 1-12 in "0 0 * 13 *""#, #line),
            ("0 0 * * 8", .outOfRange, #"day-of-week: 8 is out of range 0-7 in "0 0 * * 8""#, #line),
            ("0 0 * * 1-9", .outOfRange, #"day-of-week: 9 is out of range 0-7 in "0 0 * * 1-9""#, #line),
            ("99999999999999999999 * * * *", .outOfRange,
             #"minute: 99999999999999999999 is out of range 0-59 in "99999999999999999999 * * * *""#, #line),
            ("0 1,,2 * * *", .emptyItem, #"hour: empty item in list "1,,2" in "0 1,,2 * * *""#, #line),
            ("0 1, * * *", .emptyItem, #"hour: empty item in list "1," in "0 1, * * *""#, #line),
            (",5 * * * *", .emptyItem, #"minute: empty item in list ",5" in ",5 * * * *""#, #line),
            ("*/0 * * * *", .zeroStep, #"minute: step 0 in "*/0" must be at least 1 in "*/0 * * * *""#, #line),
            ("0 0-23/0 * * *", .zeroStep, #"hour: step 0 in "0-23/0" must be at least 1 in "0 0-23/0 * * *""#, #line),
            ("*/60 * * * *", .stepTooLarge,
             #"minute: step 60 in "*/60" is over the maximum of 59 for range 0-59 in "*/60 * * * *""#, #line),
            ("0 5-2 * * *", .reversedRange,
             #"hour: range 5-2 is reversed (write the smaller value first) in "0 5-2 * * *""#, #line),
            ("0 0 * * WED-MON", .reversedRange,
             #"day-of-week: range WED-MON is reversed (write the smaller value first) in "0 0 * * WED-MON""#, #line),
            ("0 0 * NOV-FEB *", .reversedRange,
             #"month: range NOV-FEB is reversed (write the smaller value first) in "0 0 * NOV-FEB *""#, #line),
            ("x * * * *", .invalidValue, #"minute: "x" is not a number in "x * * * *""#, #line),
            ("0 0 1 FOO *", .invalidValue,
             #"month: "FOO" is not a number or a month name (JAN-DEC) in "0 0 1 FOO *""#, #line),
            ("0 0 1 JANUARY *", .invalidValue,
             #"month: "JANUARY" is not a number or a month name (JAN-DEC) in "0 0 1 JANUARY *""#, #line),
            ("0 0 * * MO", .invalidValue,
             #"day-of-week: "MO" is not a number or a day name (SUN-SAT) in "0 0 * * MO""#, #line),
            ("0 0 1 * JAN", .invalidValue,
             #"day-of-week: "JAN" is not a number or a day name (SUN-SAT) in "0 0 1 * JAN""#, #line),
            ("+5 * * * *", .invalidValue, #"minute: "+5" is not a number in "+5 * * * *""#, #line),
            ("\u{FF10} * * * *", .invalidValue, "minute: \"\u{FF10}\" is not a number in \"\u{FF10} * * * *\"", #line),
            ("*/MON * * * *", .invalidValue,
             #"minute: step "MON" in "*/MON" is not a number in "*/MON * * * *""#, #line),
            ("*/ * * * *", .invalidValue, #"minute: step "" in "*/" is not a number in "*/ * * * *""#, #line),
            ("1-2-3 * * * *", .malformedItem,
             #"minute: "1-2-3" is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S) in "1-2-3 * * * *""#,
             #line),
            ("*-5 * * * *", .malformedItem,
             #"minute: "*-5" is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S) in "*-5 * * * *""#,
             #line),
            ("1/2/3 * * * *", .malformedItem,
             #"minute: "1/2/3" is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S) in "1/2/3 * * * *""#,
             #line),
            ("-5 * * * *", .malformedItem,
             #"minute: "-5" is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S) in "-5 * * * *""#,
             #line),
            ("** * * * *", .malformedItem,
             #"minute: "**" is not a value, range or step (write N, A-B, *, */S, A-B/S or A/S) in "** * * * *""#,
             #line),
            ("0 0\n * * *", .invalidValue, #"hour: "0\n" is not a number in "0 0\n * * *""#, #line),
        ]
        for (text, code, message, line) in cases {
            XCTAssertThrowsError(try CronExpression(parsing: text), "parsing \(text.debugDescription)", line: line) {
                guard let error = $0 as? CronError else {
                    return XCTFail("threw \($0), not a CronError", line: line)
                }
                XCTAssertEqual(error.code, code, "code for \(text.debugDescription)", line: line)
                XCTAssertEqual(error.message, message, "message for \(text.debugDescription)", line: line)
            }
        }
    }

    func testRejectsInputOverLengthLimitWithoutEchoingIt() throws {
        let atLimit = "0 0 * * *" + String(repeating: " ", count: CronExpression.maximumLengthBytes - 9)
        XCTAssertEqual(try CronExpression(parsing: atLimit).description, "0 0 * * *")
        let tooLong = String(repeating: "1,", count: 150) + "1 * * * *"
        XCTAssertThrowsError(try CronExpression(parsing: tooLong)) {
            let error = $0 as? CronError
            XCTAssertEqual(error?.code, .tooLong)
            XCTAssertEqual(error?.message, "expression is 309 bytes long, over the limit of 256 bytes")
        }
    }

    func testErrorDescriptionCarriesStableCode() {
        XCTAssertThrowsError(try CronExpression(parsing: "0 0 32 * *")) {
            XCTAssertEqual(
                String(describing: $0), #"day-of-month: 32 is out of range 1-31 in "0 0 32 * *" [cron.out_of_range]"#)
        }
    }
}
