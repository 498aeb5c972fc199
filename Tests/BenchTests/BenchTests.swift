import Foundation
import XCTest

@testable import Bench

final class HdrHistogramTests: XCTestCase {
    /// Every percentile is within the bucket precision (1/128) of the exact one.
    func testPercentilesAreWithinOnePercentOfTheExactOnes() {
        var generator = UInt64(42)
        var values: [UInt64] = []
        var histogram = HdrHistogram()
        for _ in 0..<20_000 {
            generator = BenchKeys.mix(generator)
            // Latency-like: mostly 0.2–2 ms, a tail to 200 ms.
            let value = 200_000 + generator % 1_800_000 + (generator % 97 == 0 ? generator % 200_000_000 : 0)
            values.append(value)
            histogram.record(nanoseconds: value)
        }
        values.sort()
        for percentile in [50.0, 90, 99, 99.9] {
            let exact = values[Int((percentile / 100 * Double(values.count)).rounded(.up)) - 1]
            let estimate = histogram.value(atPercentile: percentile)
            XCTAssertEqual(Double(estimate), Double(exact), accuracy: Double(exact) / 100, "p\(percentile)")
        }
        XCTAssertEqual(histogram.value(atPercentile: 100), values.last)
        XCTAssertEqual(histogram.minimum, values.first)
        XCTAssertEqual(histogram.count, values.count)
    }

    func testSmallValuesAreExactAndMergingAddsUp() {
        var first = HdrHistogram()
        var second = HdrHistogram()
        for value in 0..<100 { first.record(nanoseconds: UInt64(value)) }
        second.record(.milliseconds(3))
        first.merge(second)
        XCTAssertEqual(first.count, 101)
        XCTAssertEqual(first.value(atPercentile: 50), 50)
        XCTAssertEqual(first.maximum, 3_000_000)
        XCTAssertEqual(HdrHistogram().value(atPercentile: 99), 0)
    }
}

final class BenchKeysTests: XCTestCase {
    /// Go's binary.PutVarint (zig-zag) in a zeroed key of the given size, as etcd's benchmark.
    func testKeysAreGoVarintsPaddedToTheKeySize() {
        let keys = BenchKeys(size: 8, spaceSize: 1_000, sequential: true)
        XCTAssertEqual([UInt8](keys.key(0)), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual([UInt8](keys.key(1)), [2, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual([UInt8](keys.key(64)), [0x80, 0x01, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual([UInt8](keys.key(1_064)), [0x80, 0x01, 0, 0, 0, 0, 0, 0], "wraps at the key space")
        let random = BenchKeys(size: 8, spaceSize: 10, sequential: false)
        let drawn = Set((0..<1_000).map { random.key($0) })
        XCTAssertEqual(drawn.count, 10, "random keys cover the key space and stay inside it")
        XCTAssertEqual(random.key(7), random.key(7), "repeatable")
    }
}

final class LoadRunnerTests: XCTestCase {
    func testEveryOperationRunsOnceAndFailuresAreCountedByMessage() async {
        struct Refused: Error, CustomStringConvertible { var description: String { "refused" } }
        let seen = Seen()
        let result = await LoadRunner(clients: 7, total: 500).run { _, number in
            seen.insert(number)
            if number % 50 == 0 { throw Refused() }
        }
        XCTAssertEqual(seen.values, Set(0..<500))
        XCTAssertEqual(result.succeeded, 490)
        XCTAssertEqual(result.errors, ["refused": 10])
    }

    func testARateSpreadsTheOperationsOverTime() async {
        let result = await LoadRunner(clients: 4, total: 40, rate: 200).run { _, _ in }
        // The last of 40 operations at 200/s may not start before 39/200 s.
        XCTAssertGreaterThanOrEqual(result.elapsed, .milliseconds(195))
        XCTAssertEqual(result.succeeded, 40)
    }
}

private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var numbers = Set<Int>()
    func insert(_ number: Int) { lock.withLock { _ = numbers.insert(number) } }
    var values: Set<Int> { lock.withLock { numbers } }
}
