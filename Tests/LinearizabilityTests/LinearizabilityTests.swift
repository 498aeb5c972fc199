import Foundation
import Linearizability
import XCTest

private typealias H = HistoryBuilder

/// Small hand-written histories whose verdict is known.
final class LinearizabilityTests: XCTestCase {
    func testEmptyHistoryIsLinearizable() {
        let result = Linearizability.check([])
        XCTAssertEqual(result.verdict, .linearizable)
        XCTAssertEqual(result.keyCount, 0)
    }

    func testSequentialHistoryIsLinearizable() {
        let history = [
            H.get(nil, 0, 10),
            H.put("a", 20, 30),
            H.get("a", 40, 50),
            H.cas(expected: "a", new: "b", succeeded: true, 60, 70),
            H.cas(expected: "a", new: "c", succeeded: false, 80, 90),
            H.get("b", 100, 110),
            H.delete(deleted: 1, 120, 130),
            H.cas(expected: nil, new: "d", succeeded: true, 140, 150),
            H.get("d", 160, 170),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)
    }

    func testOverlappingCallsAreLinearizableOnlyInTheOrderTheReadsShow() {
        // The puts overlap, so either may come first; the reads say "b" then "a".
        let overlapping = [
            H.put("a", client: 1, 0, 100),
            H.put("b", client: 2, 50, 150),
            H.get("b", client: 3, 10, 120),
            H.get("a", client: 3, 130, 140),
            H.get("a", client: 1, 200, 210),
        ]
        XCTAssertEqual(Linearizability.check(overlapping).verdict, .linearizable)

        // Once "a" has been read after "b", no order lets a later read see "b" again.
        let flipFlop = overlapping + [H.get("b", client: 2, 220, 230)]
        XCTAssertEqual(Linearizability.check(flipFlop).verdict, .violation)
    }

    func testReadConcurrentWithPutMaySeeEitherValue() {
        for seen in [nil, "a"] as [String?] {
            let history = [H.put("a", client: 1, 0, 100), H.get(seen, client: 2, 10, 20)]
            XCTAssertEqual(Linearizability.check(history).verdict, .linearizable, "read \(seen ?? "absent")")
        }
    }

    func testStaleReadIsViolation() {
        let history = [
            H.put("a", client: 1, 0, 1_000),
            H.put("b", client: 2, 1_204, 2_100),
            H.get("a", client: 3, 2_500, 3_000),
        ]
        let result = Linearizability.check(history)
        XCTAssertEqual(result.verdict, .violation)
        XCTAssertEqual(result.violations.map(\.operations), [history])
        XCTAssertEqual(result.violations.first?.description, """
            key "k" is not linearizable: no order of these 3 of its 3 operations agrees with both real time \
            and the key's semantics, whatever value the key held before them:
              client 1  put(k, "a")  [t=0.000 ms .. 1.000 ms] -> ok
              client 2  put(k, "b")  [t=1.204 ms .. 2.100 ms] -> ok
              client 3  get(k)  [t=2.500 ms .. 3.000 ms] -> "a"
            """)
    }

    func testReadOfValueNeverWrittenIsViolation() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.get("a", client: 2, 20, 30),
            H.get("zzz", client: 2, 40, 50),
            H.put("b", client: 1, 60, 70),
        ]
        let result = Linearizability.check(history)
        XCTAssertEqual(result.verdict, .violation)
        XCTAssertEqual(result.violations.first?.operations, [history[2]])
    }

    func testSwapSucceedingWhenItMustHaveFailedIsViolation() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.put("b", client: 1, 20, 30),
            H.cas(expected: "a", new: "c", succeeded: true, client: 2, 40, 50),
        ]
        let result = Linearizability.check(history)
        XCTAssertEqual(result.verdict, .violation)
        XCTAssertEqual(result.violations.first?.operations, history)
    }

    func testSwapFailingWhenItMustHaveSucceededIsViolation() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.cas(expected: "a", new: "c", succeeded: false, client: 2, 20, 30),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .violation)
    }

    func testCreateOnlyIfAbsent() {
        let created = [
            H.cas(expected: nil, new: "a", succeeded: true, client: 1, 0, 10),
            H.cas(expected: nil, new: "b", succeeded: false, client: 2, 20, 30),
            H.get("a", 40, 50),
        ]
        XCTAssertEqual(Linearizability.check(created).verdict, .linearizable)

        let createdTwice = [
            H.cas(expected: nil, new: "a", succeeded: true, client: 1, 0, 10),
            H.cas(expected: nil, new: "b", succeeded: true, client: 2, 20, 30),
        ]
        XCTAssertEqual(Linearizability.check(createdTwice).verdict, .violation)
    }

    func testUnknownOutcomePutNeededToExplainLaterReadIsLinearizable() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.put("b", client: 2, 20, nil),
            H.get("b", client: 3, 1_000, 1_010),
            H.get("b", client: 1, 2_000, 2_010),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)
    }

    func testUnknownOutcomePutNeverObservedIsLinearizable() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.put("b", client: 2, 20, nil),
            H.get("a", client: 3, 1_000, 1_010),
            H.get("a", client: 1, 2_000, 2_010),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)
    }

    func testUnknownOutcomePutCannotTakeEffectBeforeItWasSent() {
        let history = [
            H.get("b", client: 1, 0, 10),
            H.put("b", client: 2, 20, nil),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .violation)
    }

    func testUnknownOutcomePutTakesEffectOnceOrNever() {
        // Once "b" was seen and then overwritten, the lost put cannot make it reappear.
        let history = [
            H.put("b", client: 2, 0, nil),
            H.get("b", client: 1, 10, 20),
            H.put("c", client: 1, 30, 40),
            H.get("b", client: 1, 50, 60),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .violation)
    }

    func testChainOfUnknownOutcomesExplainsRead() {
        // Only "lost put a, then lost swap a -> b, then lost swap b -> c" explains the read.
        let history = [
            H.cas(expected: "b", new: "c", succeeded: false, client: 3, 0, nil),
            H.cas(expected: "a", new: "b", succeeded: false, client: 2, 0, nil),
            H.put("a", client: 1, 0, nil),
            H.get("c", client: 4, 10, 20),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)
        XCTAssertEqual(Linearizability.check(history + [H.get("b", client: 4, 30, 40)]).verdict, .violation)
    }

    func testWitnessShowsUnknownOutcomes() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.put("b", client: 2, 20, nil),
            H.get("b", client: 3, 30, 40),
            H.get("a", client: 3, 1_050, 1_060),
        ]
        let violation = Linearizability.check(history).violations.first
        XCTAssertEqual(violation?.description, """
            key "k" is not linearizable: no order of these 4 of its 4 operations agrees with both real time \
            and the key's semantics, whatever value the key held before them:
              client 1  put(k, "a")  [t=0.000 ms .. 0.010 ms] -> ok
              client 2  put(k, "b")  [t=0.020 ms .. ?] -> unknown outcome
              client 3  get(k)  [t=0.030 ms .. 0.040 ms] -> "b"
              client 3  get(k)  [t=1.050 ms .. 1.060 ms] -> "a"
            """)
    }

    func testUnknownOutcomeDeleteAndSwap() {
        let history = [
            H.put("a", client: 1, 0, 10),
            H.delete(deleted: 1, client: 2, 20, nil),
            H.cas(expected: "a", new: "b", succeeded: true, client: 3, 30, nil),
            H.get(nil, client: 1, 100, 110),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)
        let swapFirst = Array(history.dropLast()) + [H.get("b", client: 1, 100, 110), H.get(nil, client: 1, 120, 130)]
        XCTAssertEqual(Linearizability.check(swapFirst).verdict, .linearizable)
    }

    func testDeleteSemantics() {
        let history = [
            H.delete(deleted: 0, 0, 10),
            H.put("a", 20, 30),
            H.delete(deleted: 1, 40, 50),
            H.get(nil, 60, 70),
            H.delete(deleted: 0, 80, 90),
        ]
        XCTAssertEqual(Linearizability.check(history).verdict, .linearizable)

        XCTAssertEqual(Linearizability.check([H.delete(deleted: 1, 0, 10)]).verdict, .violation, "nothing to delete")
        XCTAssertEqual(
            Linearizability.check([H.put("a", 0, 10), H.delete(deleted: 0, 20, 30)]).verdict, .violation,
            "the key was there"
        )
        XCTAssertEqual(
            Linearizability.check([H.put("a", 0, 10), H.delete(deleted: 1, 20, 30), H.get("a", 40, 50)]).verdict,
            .violation, "read after delete"
        )
        XCTAssertEqual(
            Linearizability.check([H.put("a", 0, 10), H.delete(deleted: 2, 20, 30)]).verdict, .violation,
            "one key deleted twice"
        )
    }

    func testTimedOutReadIsIgnored() {
        let history = [H.put("a", 0, 10), H.get("never", client: 1, 20, nil)]
        let result = Linearizability.check(history)
        XCTAssertEqual(result.verdict, .linearizable)
    }

    func testAnswerOfWrongKindIsViolation() {
        let history = [Operation(
            client: 0, key: "k", input: .put(value: "a"), output: .get(value: "a"), invokeNanos: 0, completeNanos: 10
        )]
        XCTAssertEqual(Linearizability.check(history).verdict, .violation)
    }

    func testKeysAreCheckedIndependently() {
        let history = [
            H.put("a", key: "x", client: 1, 0, 10),
            H.put("a", key: "y", client: 1, 20, 30),
            H.get("a", key: "x", client: 2, 40, 50),
            H.get(nil, key: "z", client: 2, 60, 70),
            // Fine for "y" alone, even though "x" holds "a" at the same time.
            H.get("a", key: "y", client: 3, 40, 50),
            H.get(nil, key: "x", client: 3, 60, 70),
        ]
        let result = Linearizability.check(history)
        XCTAssertEqual(result.verdict, .violation)
        XCTAssertEqual(result.keyCount, 3)
        XCTAssertEqual(result.violations.map(\.key), ["x"])
        XCTAssertEqual(result.violations.first?.operationCountOnKey, 3)
    }

    func testExpiredTimeoutGivesUnknown() {
        let history: [Operation] = (0..<100).map { (n: UInt64) in H.put("v\(n)", n * 10, n * 10 + 5) }
        let result = Linearizability.check(history, timeout: .zero)
        XCTAssertEqual(result.verdict, .unknown)
        XCTAssertEqual(result.undecidedKeys, ["k"])
    }

    func testHistoryRoundTripsThroughJSON() throws {
        let history = [
            H.put("a", client: 1, 0, 10, revision: 2),
            H.get("a", client: 2, 5, 15),
            H.get(nil, client: 2, 20, nil),
            H.delete(deleted: 1, client: 3, 30, 40, revision: 3),
            H.cas(expected: nil, new: "b", succeeded: true, client: 1, 50, 60, revision: 4),
            H.cas(expected: "x", new: "c", succeeded: false, client: 1, 70, nil),
        ]
        let decoded = try JSONDecoder().decode([Operation].self, from: JSONEncoder().encode(history))
        XCTAssertEqual(decoded, history)
        XCTAssertEqual(Linearizability.check(decoded).verdict, .linearizable)
    }
}
