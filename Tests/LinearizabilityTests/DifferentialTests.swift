import Linearizability
import Raft
import XCTest

/// The checker against `ReferenceChecker` on thousands of tiny random histories: random
/// intervals with ties, random (mostly wrong) answers, few and repeated values, lost answers.
final class DifferentialTests: XCTestCase {
    func testVerdictsAndWitnessesAgreeWithBruteForce() {
        var random = SplitMix64(seed: 7)
        var counts = (linearizable: 0, violation: 0)
        for round in 0..<8_000 {
            let history = randomHistory(&random, size: 1 + random.below(8))
            let expected = ReferenceChecker.isLinearizable(history)
            let result = Linearizability.check(history)
            XCTAssertEqual(result.verdict, expected ? .linearizable : .violation, "round \(round): \(history)")
            guard let violation = result.violations.first else {
                counts.linearizable += 1
                continue
            }
            counts.violation += 1
            XCTAssertFalse(ReferenceChecker.isLinearizable(violation.operations), "round \(round): \(violation)")
            if violation.failsFromAnyStartingValue {
                for start in Set(history.compactMap(\.writtenValue)) {
                    XCTAssertFalse(
                        ReferenceChecker.isLinearizable(violation.operations, from: start),
                        "round \(round), starting from \(start): \(violation)"
                    )
                }
            }
        }
        // Both verdicts must be well represented for the comparison to mean anything.
        XCTAssertGreaterThan(counts.linearizable, 500)
        XCTAssertGreaterThan(counts.violation, 500)
    }

    private func randomHistory(_ random: inout SplitMix64, size: Int) -> [Operation] {
        let values = ["a", "b", "c"]
        func value() -> String { values[random.below(values.count)] }
        func maybeValue() -> String? { random.below(4) == 0 ? nil : value() }
        return (0..<size).map { client in
            let invoke = UInt64(random.below(20))
            let complete = invoke + UInt64(random.below(10))
            let lost = random.below(3) == 0
            let input: Operation.Input
            let output: Operation.Output
            switch random.below(4) {
            case 0:
                input = .put(value: value())
                output = .put(revision: 0)
            case 1:
                input = .get
                output = .get(value: maybeValue())
            case 2:
                input = .delete
                output = .delete(deleted: Int64(random.below(2)), revision: 0)
            default:
                input = .compareAndSwap(expected: maybeValue(), new: value())
                output = .compareAndSwap(succeeded: random.below(2) == 0, revision: 0)
            }
            return Operation(
                client: client, key: "k", input: input, output: lost ? nil : output,
                invokeNanos: invoke, completeNanos: lost ? nil : complete
            )
        }
    }
}

private extension Operation {
    var writtenValue: String? {
        switch input {
        case .put(let value), .compareAndSwap(_, let value): return value
        case .get, .delete: return nil
        }
    }
}
