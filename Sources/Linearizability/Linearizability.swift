/// Checks histories recorded against an etcd-like key-value store for linearizability.
public enum Linearizability {
    /// How long shrinking one violation to a small witness may take at most.
    private static let shrinkTimeLimit: Duration = .seconds(10)

    /// Checks `history`, key by key.
    ///
    /// Reads whose outcome is unknown say nothing and are ignored; writes whose outcome is
    /// unknown may have taken effect at any time after their invoke, or never.
    ///
    /// - Parameter timeout: bounds the whole check, shrinking included. Keys not decided in
    ///   time make the verdict `.unknown` unless another key has a violation.
    public static func check(_ history: [Operation], timeout: Duration? = nil) -> CheckResult {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let partitions = partition(history)

        var undecidedKeys: [String] = []
        var failures: [Failure] = []
        for (key, operations) in partitions {
            let calls = RegisterCall.encode(operations)
            let search = WingGongSearch.run(calls, from: .absent, budget: SearchBudget(deadline: deadline))
            switch search.outcome {
            case .linearizable:
                break
            case .violation(let blockingCall):
                failures.append(Failure(key: key, operations: operations, calls: calls, blockingCall: blockingCall, steps: search.steps))
            case .exhausted:
                undecidedKeys.append(key)
            }
        }

        // Shrinking comes after every key has a verdict, so time spent explaining one
        // violation cannot leave another key unchecked.
        let violations = failures.map { explain($0, deadline: deadline) }

        let verdict: CheckResult.Verdict =
            !violations.isEmpty ? .violation : undecidedKeys.isEmpty ? .linearizable : .unknown
        return CheckResult(
            verdict: verdict,
            violations: violations,
            undecidedKeys: undecidedKeys,
            keyCount: partitions.count
        )
    }

    /// A key found not linearizable, with what its search learned.
    private struct Failure {
        let key: String
        let operations: [Operation]
        let calls: [RegisterCall]
        let blockingCall: Int
        let steps: Int
    }

    /// Shrinks a failing key's history to a witness.
    private static func explain(_ failure: Failure, deadline: ContinuousClock.Instant?) -> Violation {
        let shrinkDeadline = ContinuousClock.now + shrinkTimeLimit
        // A trial search on a reduced history rarely needs more steps than the search that
        // found the violation; the floor covers histories that failed early.
        var shrinker = WitnessShrinker(
            calls: failure.calls,
            blockingCall: failure.blockingCall,
            budget: SearchBudget(
                deadline: deadline.map { min($0, shrinkDeadline) } ?? shrinkDeadline,
                stepLimit: max(100_000, 4 * failure.steps)
            )
        )
        let result = shrinker.shrink()
        return Violation(
            key: failure.key,
            operations: result.witness.map { failure.operations[$0] }
                .sorted { ($0.invokeNanos, $0.client) < ($1.invokeNanos, $1.client) },
            operationCountOnKey: failure.operations.count,
            isMinimal: result.isMinimal,
            failsFromAnyStartingValue: result.failsFromAnyStartingValue
        )
    }

    /// Splits the history by key, sorted by key, dropping reads with unknown outcomes.
    private static func partition(_ history: [Operation]) -> [(key: String, operations: [Operation])] {
        var byKey: [String: [Operation]] = [:]
        for operation in history {
            if case .get = operation.input, operation.output == nil { continue }
            byKey[operation.key, default: []].append(operation)
        }
        return byKey.keys.sorted().map { ($0, byKey[$0]!) }
    }
}
